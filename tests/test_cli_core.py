"""The audit command end to end on a real OPA: exit codes, validation, inputs, determinism, engine errors."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import NOW, OPA_BIN, ROOT, run, run_cli, write_yaml

LEGACY_WRITE = """\
format: huggingface-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
tokens:
  - whoami: {auth: {type: access_token, accessToken: {displayName: old-write, role: write}}}
    inventory:
      id: "64f0c0ffee0000000000a001"
      owner: jdoe-ml
      kind: user_access_token
      last4: ab12
      created_at: "2026-09-01T00:00:00Z"
      last_used_at: "2026-11-20T00:00:00Z"
"""

WELL_SCOPED = """\
format: huggingface-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
tokens:
  - whoami:
      auth:
        type: access_token
        accessToken:
          displayName: reader
          role: fineGrained
          fineGrained:
            canReadGatedRepos: false
            global: []
            scoped:
              - entity: {type: model, name: acme-ml/sentiment-bert}
                permissions: [repo.content.read]
    inventory:
      id: "64f0c0ffee0000000000a002"
      owner: jdoe-ml
      created_at: "2026-09-01T00:00:00Z"
      last_used_at: "2026-11-20T00:00:00Z"
"""


def audit(*args: str, **kw) -> subprocess.CompletedProcess:
    return run_cli("audit", "--now", NOW, *args, **kw)


def test_exit_1_when_findings_at_or_above_fail_on(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = audit(str(path))
    assert result.returncode == 1, result.stderr
    assert "legacy-token" in result.stdout
    assert "HIGH (1)" in result.stdout


def test_exit_0_below_threshold_and_with_fail_on_never(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    assert audit(str(path), "--fail-on", "critical").returncode == 0
    assert audit(str(path), "--fail-on", "never").returncode == 0


def test_exit_0_for_well_scoped_token(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", WELL_SCOPED)
    result = audit(str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert report["summary"]["tokens"] == 1 and report["summary"]["audited"] == 1


def test_schema_error_names_file_line_and_pointer_and_writes_nothing(tmp_path):
    bad = LEGACY_WRITE.replace("      owner: jdoe-ml\n", "      owner: 42\n")
    path = write_yaml(tmp_path / "bad.yaml", bad)
    out = tmp_path / "report.json"
    result = audit(str(path), "-o", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}:7: /tokens/0/inventory/owner: 42 is not of type 'string'" in result.stderr
    assert not out.exists()


def test_missing_required_field_is_reported_at_its_parent(tmp_path):
    path = write_yaml(tmp_path / "bad.yaml", LEGACY_WRITE.replace('      id: "64f0c0ffee0000000000a001"\n', ""))
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "/tokens/0/inventory: 'id' is a required property" in result.stderr


def test_all_files_errors_reported_together(tmp_path):
    one = write_yaml(tmp_path / "one.yaml", LEGACY_WRITE.replace("role: write", "role: superuser"))
    two = write_yaml(tmp_path / "two.yaml", LEGACY_WRITE.replace('collected_at: "2026-11-20T09:00:00Z"\n', ""))
    result = run_cli("validate", str(one), str(two))
    assert result.returncode == 2
    assert "one.yaml:4: /tokens/0/whoami" in result.stderr or "one.yaml:4" in result.stderr
    assert "two.yaml" in result.stderr and "'collected_at' is a required property" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("format: huggingface-inventory/v1\nformat: x\n", "duplicate key"),
        (
            "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
            "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
            "alias bomb",
        ),
        ("tokens: []\nloop: &a [1, *a]\n", ":2: a YAML alias refers to itself"),
        ("x: !!python/object/apply:os.system ['echo hi']\n", "not allowed"),
        ("tokens: [\n", "invalid YAML"),
        ("", "empty input"),
    ],
    ids=["duplicate-key", "billion-laughs", "self-alias", "python-tag", "syntax", "empty"],
)
def test_unsafe_or_broken_yaml_is_a_one_line_input_error(tmp_path, text, expected):
    path = write_yaml(tmp_path / "bad.yaml", text)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert expected in result.stderr
    assert str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_invalid_json_gives_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "format": "token-inventory/v1",\n  "tokens": [,]\n}\n')
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert f"{path}:3:" in result.stderr and "invalid JSON" in result.stderr


def test_duplicate_json_key_is_an_error(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"format": "token-inventory/v1", "format": "token-inventory/v1", "tokens": []}')
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "duplicate key" in result.stderr


def test_file_above_size_bound_is_refused(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = run_cli("validate", "--max-input-bytes", "100", str(path))
    assert result.returncode == 2
    assert "above the 100-byte limit" in result.stderr


def test_unknown_format_and_missing_file(tmp_path):
    path = write_yaml(tmp_path / "x.yaml", "format: nope/v9\ntokens: []\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "unknown format 'nope/v9'" in result.stderr
    result = run_cli("validate", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "no such file or directory" in result.stderr


def test_stdin_directories_and_merging(tmp_path):
    folder = tmp_path / "inventories"
    folder.mkdir()
    write_yaml(folder / "a.yaml", LEGACY_WRITE)
    write_yaml(folder / "b.yml", WELL_SCOPED)
    (folder / "notes.txt").write_text("ignored")
    result = audit(str(folder), "--format", "json", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["tokens"] == 2
    assert [i["path"] for i in report["inputs"]] == sorted([str(folder / "a.yaml"), str(folder / "b.yml")])
    piped = audit("-", "--format", "json", "--fail-on", "never", stdin=LEGACY_WRITE)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["inputs"][0]["path"] == "<stdin>"


def test_duplicate_token_across_inputs_is_listed_as_skipped(tmp_path):
    one = write_yaml(tmp_path / "one.yaml", LEGACY_WRITE)
    two = write_yaml(tmp_path / "two.yaml", LEGACY_WRITE)
    report = json.loads(audit(str(one), str(two), "--format", "json").stdout)
    assert report["summary"]["tokens"] == 2 and report["summary"]["audited"] == 1
    assert report["skipped"][0]["reason"].startswith("duplicate of the token at")


def test_same_input_and_now_give_identical_output_whatever_the_order(tmp_path):
    one = write_yaml(tmp_path / "one.yaml", LEGACY_WRITE)
    two = write_yaml(tmp_path / "two.yaml", WELL_SCOPED.replace("a002", "a003"))
    first = audit(str(one), str(two), "--format", "json").stdout
    again = audit(str(one), str(two), "--format", "json").stdout
    swapped = audit(str(two), str(one), "--format", "json").stdout
    assert first == again
    assert json.loads(first)["findings"] == json.loads(swapped)["findings"]


def test_fingerprints_stable_across_now_and_change_with_token(tmp_path):
    path = write_yaml(tmp_path / "one.yaml", LEGACY_WRITE)
    early = json.loads(run_cli("audit", str(path), "-f", "json", "--now", "2026-11-21T00:00:00Z").stdout)
    late = json.loads(run_cli("audit", str(path), "-f", "json", "--now", "2026-12-01T00:00:00Z").stdout)
    legacy = lambda r: [f["fingerprint"] for f in r["findings"] if f["rule_id"] == "legacy-token"]  # noqa: E731
    assert legacy(early) == legacy(late) and len(legacy(early)) == 1
    other = write_yaml(tmp_path / "two.yaml", LEGACY_WRITE.replace("a001", "a009"))
    changed = json.loads(audit(str(other), "-f", "json").stdout)
    assert legacy(changed) != legacy(early)


def test_output_file_is_written_atomically(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    out = tmp_path / "out" / "report.json"
    result = audit(str(path), "-f", "json", "-o", str(out))
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads(out.read_text())["summary"]["findings"] >= 1
    assert [p.name for p in out.parent.iterdir()] == ["report.json"]


def test_report_validates_against_published_schema(tmp_path):
    from jsonschema import Draft202012Validator

    schema = json.loads(run_cli("schema", "report").stdout)
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    report = json.loads(audit(str(path), "-f", "json").stdout)
    Draft202012Validator(schema).validate(report)


def test_config_overrides_thresholds(tmp_path):
    old = LEGACY_WRITE.replace('last_used_at: "2026-11-20T00:00:00Z"', 'last_used_at: "2026-10-01T00:00:00Z"')
    path = write_yaml(tmp_path / "inv.yaml", old)
    config = write_yaml(tmp_path / "config.yaml", "thresholds: {stale_days: 30}\n")
    default = json.loads(audit(str(path), "-f", "json").stdout)
    tight = json.loads(audit(str(path), "-f", "json", "--config", str(config)).stdout)
    rules = lambda r: {f["rule_id"] for f in r["findings"]}  # noqa: E731
    assert "stale-token" not in rules(default)
    assert "stale-token" in rules(tight)
    bad = write_yaml(tmp_path / "bad.yaml", "thresholds: {stale_dayz: 30}\n")
    result = audit(str(path), "--config", str(bad))
    assert result.returncode == 2 and "stale_dayz" in result.stderr


def test_bad_now_is_a_usage_error(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = run_cli("audit", str(path), "--now", "yesterday")
    assert result.returncode == 2 and "--now 'yesterday'" in result.stderr


# Engine errors: exit 3, one line.


def test_missing_opa_binary_exits_3_with_install_hint(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = audit(str(path), "--opa-bin", str(tmp_path / "no-opa"))
    assert result.returncode == 3
    assert "OPA not found" in result.stderr and "make setup" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_opa_url_exits_3(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = audit(str(path), "--opa-url", "http://127.0.0.1:9")
    assert result.returncode == 3
    assert "unreachable" in result.stderr and "Traceback" not in result.stderr


def test_policy_compile_error_names_rego_file_and_line(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    broken = policies / "checks" / "legacy_token" / "legacy_token.rego"
    broken.write_text(broken.read_text() + "\nbroken_rule if {\n\tundefined_function(1)\n}\n")
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = audit(str(path), "--policy-dir", str(policies))
    assert result.returncode == 3
    assert "policy compile error" in result.stderr
    assert "legacy_token.rego:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_opa_url_with_bearer_token(tmp_path, opa_server):
    url, token = opa_server
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    ok = audit(
        str(path), "-f", "json", "--opa-url", url, "--opa-token-env", "MY_OPA_TOKEN", env={"MY_OPA_TOKEN": token}
    )
    assert ok.returncode == 1, ok.stderr
    report = json.loads(ok.stdout)
    assert report["engine"]["mode"] == "remote"
    assert (
        report["engine"]["opa_version"]
        == run([OPA_BIN, "version"], capture_output=True, text=True).stdout.split("\n")[0].split(": ")[1]
    )
    refused = audit(str(path), "--opa-url", url, "--opa-token-env", "MY_OPA_TOKEN", env={"MY_OPA_TOKEN": "wrong"})
    assert refused.returncode == 3
    assert "401" in refused.stderr and "wrong" not in refused.stderr
    unset = audit(str(path), "--opa-url", url, "--opa-token-env", "NOT_SET_ANYWHERE")
    assert unset.returncode == 2


def test_normalize_output_evaluates_identically_with_plain_opa_eval(tmp_path):
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    normalized = tmp_path / "input.json"
    assert run_cli("normalize", str(path), "--now", NOW, "-o", str(normalized)).returncode == 0
    bundle = [
        str(p)
        for p in sorted((ROOT / "policies").rglob("*.rego"))
        if not p.name.endswith("_test.rego") and "testing" not in p.parts
    ]
    data = [str(p) for p in sorted((ROOT / "policies").rglob("data.json"))]
    plain = run(
        [
            OPA_BIN,
            "eval",
            "--format",
            "json",
            "-i",
            str(normalized),
            *[arg for f in bundle for arg in ("-d", f)],
            "-d",
            str(ROOT / "policies"),
            "data.token_auditor.main.findings",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if plain.returncode != 0:  # duplicate module load: fall back to the whole directory (no tests in it matter)
        plain = run(
            [
                OPA_BIN,
                "eval",
                "--format",
                "json",
                "-i",
                str(normalized),
                "-d",
                str(ROOT / "policies"),
                "data.token_auditor.main.findings",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    plain_rules = sorted(f["rule_id"] for f in json.loads(plain.stdout)["result"][0]["expressions"][0]["value"])
    report = json.loads(audit(str(path), "-f", "json").stdout)
    assert plain_rules == sorted(f["rule_id"] for f in report["findings"])
    assert data  # the catalogue and settings documents exist


def test_rules_catalogue_matches_opa_inspect():
    listed = json.loads(run_cli("rules", "--format", "json").stdout)
    inspected = run(
        [OPA_BIN, "inspect", "--annotations", "--format", "json", str(ROOT / "policies")],
        capture_output=True,
        text=True,
        check=True,
    )
    annotations = json.loads(inspected.stdout).get("annotations", [])
    ids = sorted(
        a["annotations"]["custom"]["id"]
        for a in annotations
        if a["annotations"].get("scope") == "package" and "id" in (a["annotations"].get("custom") or {})
    )
    assert sorted(r["id"] for r in listed) == ids
    assert "legacy-token" in ids


def test_schema_command_lists_and_prints():
    names = run_cli("schema").stdout.split()
    assert {"huggingface-inventory.v1", "token-inventory.v1", "report.v1", "config.v1"} <= set(names)
    printed = json.loads(run_cli("schema", "huggingface-inventory").stdout)
    assert printed["properties"]["format"]["const"] == "huggingface-inventory/v1"
    assert run_cli("schema", "nope").returncode == 2


def test_compile_error_in_a_multi_file_package_names_the_right_file_and_line(tmp_path):
    """Files of one package are uploaded as one module; errors still point into the original file."""
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    target = policies / "lib" / "replacement" / "replacement.rego"
    lines = target.read_text().splitlines()
    target.write_text("\n".join(lines + ["", "broken if {", "\tno_such_function(1)", "}"]) + "\n")
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = audit(str(path), "--policy-dir", str(policies))
    assert result.returncode == 3
    assert f"replacement/replacement.rego:{len(lines) + 3}: undefined function no_such_function" in result.stderr


def test_files_of_one_package_that_call_each_other_load(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    (policies / "lib" / "tokens" / "cycle_a.rego").write_text("package lib.tokens\n\ndouble(x) := add_self(x)\n")
    (policies / "lib" / "tokens" / "cycle_b.rego").write_text(
        "package lib.tokens\n\nadd_self(x) := x + x\n\nfour := double(2)\n"
    )
    path = write_yaml(tmp_path / "inv.yaml", LEGACY_WRITE)
    result = audit(str(path), "--policy-dir", str(policies), "-f", "json")
    assert result.returncode == 1, result.stderr


def test_json_inputs_get_line_numbers_too(tmp_path):
    document = {
        "format": "token-inventory/v1",
        "collected_at": NOW,
        "tokens": [
            {"id": "a", "provider": "npm", "owner": "x", "legacy": True},
            {"id": "b", "provider": "npm", "owner": 7},
        ],
    }
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(document, indent=2))
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    expected_line = json.dumps(document, indent=2).splitlines().index('      "owner": 7') + 1
    assert f"{path}:{expected_line}: /tokens/1/owner: 7 is not of type 'string'" in result.stderr
    document["tokens"][1]["owner"] = "y"
    path.write_text(json.dumps(document, indent=2))
    report = json.loads(audit(str(path), "-f", "json").stdout)
    legacy = [f for f in report["findings"] if f["rule_id"] == "legacy-token"][0]
    assert legacy["source"]["line"] == json.dumps(document, indent=2).splitlines().index("    {") + 1


def test_schema_errors_of_one_file_are_capped(tmp_path):
    tokens = [{"id": f"t{i}", "provider": "npm", "owner": i} for i in range(60)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps({"format": "token-inventory/v1", "collected_at": NOW, "tokens": tokens}))
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 51 and lines[-1].endswith("… and 10 more schema errors")


def test_table_header_counts_tokens_and_other_skipped_items_apart():
    result = audit(str(ROOT / "fixtures"), "--fail-on", "never")
    report = json.loads(audit(str(ROOT / "fixtures"), "--fail-on", "never", "-f", "json").stdout)
    summary = report["summary"]
    header = result.stdout.splitlines()[1]
    skipped_tokens = summary["tokens"] - summary["audited"]
    assert header.startswith(f"{summary['tokens']} tokens ({summary['audited']} audited, {skipped_tokens} skipped")
    assert "not a token" in header  # the fixtures hold an SSH key
