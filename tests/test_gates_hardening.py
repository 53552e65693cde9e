"""Gates that cannot be silenced and fingerprints stable across paths.

- A waiver that pins no subject is refused unless --allow-broad-waivers; a purge/revoke rule is waivable only
  by the exact finding fingerprint.
- The baseline has a schema, checked on load.
- Broadening a token under the same rule makes its over-privilege finding new again.
- A raw secret's identity is provider, masked value and JSON pointer: moving the inventory to another
  directory, or naming it `./x`, `x` or `$PWD/x`, shows no new finding.
"""

from __future__ import annotations

import json
import shutil

import jsonschema

from auditor.inventory.validate import load_schema
from tests.conftest import NOW, ROOT, run_cli, write_yaml

HEAD = ROOT / "tests" / "data" / "gate" / "head.json"
FAKE_HF = "hf_" + "FAKEfake0123456789" * 2  # shaped like a token, not one
# sha256("raw-secret-in-inventory|secret|huggingface|hf_…6789|/tokens/0/native/note")[:32]
SECRET_FINGERPRINT = "f4458814bc839b4a007b0a1393630259"


def engine(opa_server) -> tuple[tuple[str, ...], dict]:
    url, secret = opa_server
    return ("--opa-url", url, "--opa-token-env", "T"), {"T": secret}


def audit(opa_server, *args: str, cwd=None):
    flags, env = engine(opa_server)
    return run_cli("audit", *args, "--now", NOW, *flags, env=env, cwd=cwd)


def secret_inventory(path):
    """One clean, short-lived token whose entry holds a pasted token value: only raw-secret-in-inventory fires."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "format": "token-inventory/v1",
                "collected_at": "2026-11-24T00:00:00Z",
                "tokens": [
                    {
                        "id": "tok-fine-9",
                        "provider": "huggingface",
                        "kind": "user_access_token",
                        "name": "model-sync",
                        "owner": "carol",
                        "created_at": "2026-11-01T00:00:00Z",
                        "expires_at": "2026-12-20T00:00:00Z",
                        "last_used_at": "2026-11-20T00:00:00Z",
                        "grants": [
                            {
                                "resource": {"type": "model", "name": "carol/m"},
                                "permissions": ["repo.content.read"],
                                "access": "read",
                            }
                        ],
                        "native": {"note": f"pasted by mistake: {FAKE_HF}"},
                    }
                ],
            },
            indent=2,
        )
    )
    return path


# ---- waivers ---------------------------------------------------------------------------------------------------


def test_waivers_naming_the_tokens_pass_the_gate(opa_server, tmp_path):
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        """\
waivers:
  - rule_id: legacy-token
    match: {owner: alice, token_id: tok-legacy-1}
    reason: publishing moves to OIDC in December
    approved_by: secops-lead
    expires: 2026-12-31
  - rule_id: no-expiry
    match: {name: "ci-*"}
    reason: same migration
    approved_by: secops-lead
    expires: 2026-12-31
""",
    )
    assert audit(opa_server, str(HEAD), "--fail-on", "high").returncode == 1
    out = tmp_path / "r.json"
    result = audit(opa_server, str(HEAD), "--fail-on", "high", "--waivers", str(waivers), "-f", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert sorted((f["rule_id"], f["subject"]["id"]) for f in report["findings"] if f["waived"]) == [
        ("legacy-token", "tok-legacy-1"),
        ("no-expiry", "tok-legacy-1"),
    ]
    assert report["gate"] == {
        "fail_on": "high",
        "findings": 5,
        "counted": 3,
        "waived": 2,
        "baseline": 0,
        "failing": 0,
        "passed": True,
    }


def test_wildcard_only_waiver_is_refused(opa_server, tmp_path):
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        """\
waivers:
  - rule_id: legacy-token
    match: {name: "*"}
    reason: too noisy
    approved_by: someone
    expires: 2026-12-31
""",
    )
    result = audit(opa_server, str(HEAD), "--waivers", str(waivers))
    assert result.returncode == 2
    assert result.stderr == (
        f"token-auditor: invalid: {waivers}:3: /waivers/0/match: waives legacy-token without pinning a subject "
        "(match {name: *}); match a token_id, owner, fingerprint or a name with literal characters, or pass "
        "--allow-broad-waivers\n"
    )
    assert result.stdout == ""


def test_provider_only_waiver_is_broad_and_allowed_on_request(opa_server, tmp_path):
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        """\
waivers:
  - {rule_id: legacy-token, match: {provider: huggingface}, reason: migration, approved_by: lead, expires: 2026-12-31}
  - {rule_id: no-expiry, match: {name: "*?[a-z]*"}, reason: migration, approved_by: lead, expires: 2026-12-31}
""",
    )
    result = audit(opa_server, str(HEAD), "--waivers", str(waivers))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"token-auditor: invalid: {waivers}:2: /waivers/0/match: waives legacy-token without pinning a subject "
        "(match {provider: huggingface}); match a token_id, owner, fingerprint or a name with literal characters, "
        "or pass --allow-broad-waivers",
        f"token-auditor: invalid: {waivers}:3: /waivers/1/match: waives no-expiry without pinning a subject "
        "(match {name: *?[a-z]*}); match a token_id, owner, fingerprint or a name with literal characters, "
        "or pass --allow-broad-waivers",
    ]
    allowed = audit(opa_server, str(HEAD), "--waivers", str(waivers), "--allow-broad-waivers")
    assert allowed.returncode == 0, allowed.stderr


def test_raw_secret_cannot_be_waived_by_pattern_even_when_broad_waivers_are_allowed(opa_server, tmp_path):
    inventory = secret_inventory(tmp_path / "inv.json")
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        """\
waivers:
  - rule_id: raw-secret-in-inventory
    match: {name: "*"}
    reason: it is only a test token
    approved_by: someone
    expires: 2026-12-31
""",
    )
    for extra in ((), ("--allow-broad-waivers",)):
        result = audit(opa_server, str(inventory), "--waivers", str(waivers), *extra)
        assert result.returncode == 2
        assert result.stderr == (
            f"token-auditor: invalid: {waivers}:3: /waivers/0/match: raw-secret-in-inventory recommends purge: its "
            "findings can be waived only one at a time, by fingerprint (match: {fingerprint: …} from the JSON "
            "report)\n"
        )
        assert FAKE_HF not in result.stderr + result.stdout


def test_stale_token_revoke_rule_needs_a_fingerprint_too(opa_server, tmp_path):
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        "waivers:\n  - {rule_id: stale-token, match: {token_id: tok-legacy-1}, reason: r, "
        "approved_by: a, expires: 2026-12-31}\n",
    )
    result = audit(opa_server, str(HEAD), "--waivers", str(waivers))
    assert result.returncode == 2
    assert result.stderr == (
        f"token-auditor: invalid: {waivers}:2: /waivers/0/match: stale-token recommends revoke: its findings can be "
        "waived only one at a time, by fingerprint (match: {fingerprint: …} from the JSON report)\n"
    )


def test_raw_secret_waived_by_its_exact_fingerprint(opa_server, tmp_path):
    inventory = secret_inventory(tmp_path / "inv.json")
    assert audit(opa_server, str(inventory)).returncode == 1
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        f"""\
waivers:
  - rule_id: raw-secret-in-inventory
    match: {{fingerprint: {SECRET_FINGERPRINT}}}
    reason: value revoked on 2026-11-24; history rewrite scheduled
    approved_by: secops-lead
    ticket: SEC-77
    expires: 2026-12-01
""",
    )
    out = tmp_path / "r.json"
    result = audit(opa_server, str(inventory), "--waivers", str(waivers), "-f", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    [finding] = report["findings"]
    assert (finding["rule_id"], finding["fingerprint"], finding["waived"]) == (
        "raw-secret-in-inventory",
        SECRET_FINGERPRINT,
        True,
    )
    assert report["waivers"]["active"][0]["match"] == {"fingerprint": SECRET_FINGERPRINT}
    jsonschema.validate(report, load_schema("report.v1"))


def test_waiver_by_fingerprint_must_be_a_fingerprint(opa_server, tmp_path):
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        "waivers:\n  - {rule_id: raw-secret-in-inventory, match: "
        "{fingerprint: '*'}, reason: r, approved_by: a, "
        "expires: 2026-12-31}\n",
    )
    result = audit(opa_server, str(HEAD), "--waivers", str(waivers))
    assert result.returncode == 2
    assert result.stderr == (
        f"token-auditor: invalid: {waivers}:2: /waivers/0/match/fingerprint: '*' does not match '^[0-9a-f]{{32}}$'\n"
    )


# ---- baseline --------------------------------------------------------------------------------------------------


def test_baseline_schema_is_published_and_written_baselines_conform(opa_server, tmp_path):
    printed = run_cli("schema", "baseline")
    assert printed.returncode == 0
    schema = json.loads(printed.stdout)
    assert schema["$id"] == "https://token-auditor.dev/schemas/baseline.v1.json"
    assert "baseline.v1" in run_cli("schema").stdout.splitlines()
    written = tmp_path / "baseline.json"
    assert audit(opa_server, str(HEAD), "--write-baseline", str(written)).returncode == 1
    document = json.loads(written.read_text())
    jsonschema.validate(document, load_schema("baseline.v1"))
    assert len(document["findings"]) == 5


def test_baseline_is_validated_on_load_with_file_line_and_pointer(tmp_path):
    bad = tmp_path / "baseline.json"
    bad.write_text(
        '{\n  "format": "token-auditor-baseline/v1",\n  "findings": [\n'
        '    {"fingerprint": "not-a-hash", "rule_id": "legacy-token", "severity": "high"},\n'
        '    {"fingerprint": "0123456789abcdef0123456789abcdef", "rule_id": "legacy-token",'
        ' "severity": "high", "note": "added by the PR"}\n  ]\n}\n'
    )
    result = run_cli("audit", str(HEAD), "--baseline", str(bad), "--now", NOW)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"token-auditor: invalid: {bad}:4: /findings/0/fingerprint: 'not-a-hash' does not match '^[0-9a-f]{{32}}$'",
        f"token-auditor: invalid: {bad}:5: /findings/1: Additional properties are not allowed ('note' was unexpected)",
    ]


def test_broadening_under_the_same_rule_is_new_again(opa_server, tmp_path):
    baseline = tmp_path / "baseline.json"
    assert audit(opa_server, str(HEAD), "--write-baseline", str(baseline)).returncode == 1
    broader = json.loads(HEAD.read_text())
    broader["tokens"][0]["grants"].append(
        {"resource": {"type": "org", "name": "acme"}, "permissions": ["repo.write"], "access": "write"}
    )
    head = tmp_path / "head.json"
    head.write_text(json.dumps(broader))
    out = tmp_path / "r.json"
    result = audit(opa_server, str(head), "--baseline", str(baseline), "-f", "json", "-o", str(out))
    assert result.returncode == 1, result.stderr
    report = json.loads(out.read_text())
    assert sorted((f["rule_id"], f["subject"]["id"], f["baseline"]) for f in report["findings"]) == [
        ("legacy-token", "tok-legacy-1", False),  # NHI5: what it can do changed, so it counts again
        ("legacy-token", "tok-legacy-2", True),
        ("long-lived", "tok-fine-3", True),
        ("long-lived", "tok-legacy-2", True),
        ("no-expiry", "tok-legacy-1", True),  # NHI7: about its lifetime, unchanged
    ]
    assert report["baseline"]["new"] == 1 and report["baseline"]["resolved"] == 1

    flags, env = engine(opa_server)
    diff = run_cli("diff", str(HEAD), str(head), "--now", NOW, "-f", "json", *flags, env=env)
    assert diff.returncode == 1, diff.stderr
    data = json.loads(diff.stdout)
    assert [(f["rule_id"], f["subject"]["id"]) for f in data["findings"]["introduced"]] == [
        ("legacy-token", "tok-legacy-1")
    ]
    assert [(f["rule_id"], f["subject"]["id"]) for f in data["findings"]["resolved"]] == [
        ("legacy-token", "tok-legacy-1")
    ]


# ---- fingerprints stable across paths --------------------------------------------------------------------------


def test_raw_secret_fingerprint_is_provider_masked_and_pointer(opa_server, tmp_path):
    inventory = secret_inventory(tmp_path / "a" / "inv.json")
    out = tmp_path / "r.json"
    audit(opa_server, str(inventory), "-f", "json", "-o", str(out))
    [finding] = json.loads(out.read_text())["findings"]
    assert finding["fingerprint"] == SECRET_FINGERPRINT
    assert FAKE_HF not in out.read_text()


def test_moving_inputs_between_directories_shows_no_new_finding(opa_server, tmp_path):
    secret_inventory(tmp_path / "before" / "inv.json")
    shutil.copy(HEAD, tmp_path / "before" / "tokens.json")
    baseline = tmp_path / "baseline.json"
    first = audit(
        opa_server, "./before/inv.json", "before/tokens.json", "--write-baseline", str(baseline), cwd=tmp_path
    )
    assert first.returncode == 1, first.stderr
    assert len(json.loads(baseline.read_text())["findings"]) == 6

    shutil.move(tmp_path / "before", tmp_path / "moved" / "elsewhere")
    moved = tmp_path / "moved" / "elsewhere"
    for paths in (
        [str(moved / "inv.json"), str(moved / "tokens.json")],  # $PWD/x
        ["moved/elsewhere/inv.json", "./moved/elsewhere/tokens.json"],
    ):  # x and ./x
        out = tmp_path / "r.json"
        result = audit(
            opa_server,
            *paths,
            "--baseline",
            str(baseline),
            "-f",
            "json",
            "-o",
            str(out),
            "--fail-on",
            "low",
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(out.read_text())
        assert (report["baseline"]["matched"], report["baseline"]["new"], report["baseline"]["resolved"]) == (6, 0, 0)
        assert report["gate"]["counted"] == 0

    other = tmp_path / "other-dir"
    shutil.copytree(moved, other)
    flags, env = engine(opa_server)
    diff = run_cli(
        "diff", str(moved), "./other-dir", "--now", NOW, "-f", "json", "--fail-on", "low", *flags, env=env, cwd=tmp_path
    )
    assert diff.returncode == 0, diff.stderr
    data = json.loads(diff.stdout)
    assert (data["summary"]["findings_introduced"], data["summary"]["findings_resolved"]) == (0, 0)
    assert data["tokens"] == []
