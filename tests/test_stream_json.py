"""`--format json` on the streamed path: the same bytes as the whole-file report, written from sorted spools."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import NOW, ROOT, run_cli
from test_stream import SECRET, audit, neutral_fixture, write_jsonl

from auditor.plan import Catalogue
from auditor.report.json_stream import JsonReportStream, SortedSpool

WHOLE = ("-f", "markdown", "-o", "/dev/null")  # a format that needs the whole report: the whole-file path


def whole_and_streamed(tmp_path: Path, inventory: Path, *extra: str) -> tuple[bytes, bytes]:
    whole, streamed = tmp_path / "whole.json", tmp_path / "streamed.json"
    result = audit(str(inventory), "-f", "json", "-o", str(whole), *WHOLE)
    assert result.returncode == 0, result.stderr
    # --max-input-bytes: the whole-file path would refuse the file, so this run is the streamed one
    result = audit(str(inventory), "-f", "json", "-o", str(streamed), "--max-input-bytes", "100", *extra)
    assert result.returncode == 0, result.stderr
    return whole.read_bytes(), streamed.read_bytes()


def generated(tmp_path: Path) -> Path:
    """400 seeded token-inventory/v1 tokens; GitHub fine-grained ones carry the id their org revokes them by."""
    inventory = tmp_path / "generated.json"
    command = [sys.executable, str(ROOT / "scripts" / "generate_inventory.py"), "--tokens", "1"]
    command += ["-o", str(tmp_path / "hf.json"), "--neutral", "400", "--neutral-output", str(inventory)]
    subprocess.run(command, check=True)
    document = json.loads(inventory.read_text())
    for index, token in enumerate(document["tokens"]):
        if token["kind"] == "fine_grained_pat":
            token["native"] = {"id": 5000 + index}
    inventory.write_text(json.dumps(document))
    return inventory


def test_streamed_json_report_is_the_whole_report_byte_for_byte(tmp_path):
    document = neutral_fixture()
    document["tokens"][1]["name"] = f"web-sdk release {SECRET}"  # a pasted token value
    inventory = write_jsonl(tmp_path / "inv.jsonl", document)
    whole, streamed = whole_and_streamed(tmp_path, inventory, "--chunk-size", "1")
    assert streamed == whole
    assert SECRET.encode() not in streamed
    assert streamed.startswith(b'{\n  "schema_version": "2.0",\n  "tool": {\n    "name": "token-auditor",\n')
    assert streamed.endswith(b'    "failing": 0,\n    "passed": true\n  }\n}\n')
    report = json.loads(streamed)
    assert list(report) == [
        "schema_version",
        "tool",
        "engine",
        "policy",
        "now",
        "config",
        "inputs",
        "summary",
        "findings",
        "skipped",
        "secrets_redacted",
        "rules",
        "tokens",
        "evidence",
        "not_assessed",
        "plans",
        "gate",
    ]
    summary = report["summary"]
    assert (summary["tokens"], summary["audited"], summary["skipped"], summary["findings"]) == (4, 3, 1, 6)
    assert summary["by_severity"] == {"critical": 1, "high": 2, "medium": 3, "low": 0, "info": 0}
    assert report["secrets_redacted"] == 1
    assert [(f["severity"], f["rule_id"], f["subject"]["key"], f["plan_id"]) for f in report["findings"]] == [
        ("critical", "raw-secret-in-inventory", "secret:28c9c02e6dd36f35", "plan-562dab81b18f"),
        ("high", "legacy-token", "npm:classic_publish_token:npm-7f3a", "plan-56e9f0dfc785"),
        ("high", "no-expiry", "npm:classic_publish_token:npm-7f3a", "plan-56e9f0dfc785"),
        ("medium", "stale-token", "pypi:api_token:pypi-project-0b77", "plan-ba28475efb3b"),
        ("medium", "unrotated-token", "npm:classic_publish_token:npm-7f3a", "plan-56e9f0dfc785"),
        ("medium", "unrotated-token", "pypi:api_token:pypi-project-0b77", "plan-ba28475efb3b"),
    ]
    assert [t["key"] for t in report["tokens"]] == [
        "npm:classic_publish_token:npm-7f3a",
        "npm:granular_access_token:npm-granular-51c0",
        "pypi:api_token:pypi-project-0b77",
    ]
    # the pasted value's plan is the plan of the token whose name held it
    assert [(p["id"], p["token"]["key"], len(p["findings"])) for p in report["plans"]] == [
        ("plan-56e9f0dfc785", "npm:classic_publish_token:npm-7f3a", 3),
        ("plan-562dab81b18f", "npm:granular_access_token:npm-granular-51c0", 1),
        ("plan-ba28475efb3b", "pypi:api_token:pypi-project-0b77", 2),
    ]


def test_streamed_json_of_a_generated_inventory_matches_as_json_and_as_jsonl(tmp_path):
    inventory = generated(tmp_path)
    whole, streamed = whole_and_streamed(tmp_path, inventory, "--chunk-size", "7", "--workers", "2")
    assert streamed == whole
    summary = json.loads(streamed)["summary"]
    assert (summary["tokens"], summary["audited"], summary["skipped"], summary["findings"]) == (400, 395, 5, 914)
    assert summary["tokens_with_findings"] == 394
    revoke_ids = [p["token"]["revoke_id"] for p in json.loads(streamed)["plans"] if "revoke_id" in p["token"]]
    assert (len(revoke_ids), revoke_ids[:3]) == (98, [5211, 5311, 5074])

    as_jsonl = write_jsonl(tmp_path / "generated.jsonl", json.loads(inventory.read_text()))
    whole_jsonl, streamed_jsonl = whole_and_streamed(tmp_path, as_jsonl, "--chunk-size", "50")
    assert streamed_jsonl == whole_jsonl
    assert streamed_jsonl.replace(b"generated.jsonl", b"generated.json").count(b"\n") == whole.count(b"\n")


def test_jsonl_and_json_together_come_from_one_streamed_pass(tmp_path):
    inventory = write_jsonl(tmp_path / "inv.jsonl", neutral_fixture())
    lines, report = tmp_path / "out.jsonl", tmp_path / "out.json"
    args = ("-f", "jsonl", "-f", "json", "-o", str(lines), "-o", str(report), "--chunk-size", "1")
    result = audit(str(inventory), *args, "--max-input-bytes", "100", "--progress")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("token-auditor: starting OPA") == 1
    rows = [json.loads(line) for line in lines.read_text().splitlines()]
    data = json.loads(report.read_text())
    assert rows[-1]["summary"] == data["summary"]
    assert (
        rows[-1]["gate"]
        == data["gate"]
        == {
            "fail_on": "never",
            "findings": 5,
            "counted": 5,
            "waived": 0,
            "baseline": 0,
            "failing": 0,
            "passed": True,
        }
    )
    fingerprints = sorted(r["fingerprint"] for r in rows if r["type"] == "finding")
    assert fingerprints == sorted(f["fingerprint"] for f in data["findings"])
    assert len(fingerprints) == 5
    # table beside them needs the whole report: the whole-file path, refused for the size limit
    result = audit(str(inventory), *args[:4], "-f", "table", *args[4:8], "-o", "-", "--max-input-bytes", "100")
    assert result.returncode == 2 and "above the 100-byte limit" in result.stderr


def test_streamed_outputs_go_to_a_new_output_dir_and_never_twice_to_one_file(tmp_path):
    inventory = write_jsonl(tmp_path / "inv.jsonl", neutral_fixture())
    out = tmp_path / "reports" / "today"  # does not exist yet: created, as on the whole-file path
    result = audit(str(inventory), "-f", "json", "-f", "jsonl", "--output-dir", str(out), "--max-input-bytes", "100")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["token-auditor.json", "token-auditor.jsonl"]
    assert json.loads((out / "token-auditor.json").read_text())["summary"]["audited"] == 3

    same = str(tmp_path / "same")
    result = audit(str(inventory), "-f", "json", "-f", "jsonl", "-o", same, "-o", same, "--max-input-bytes", "100")
    assert result.returncode == 2 and "two outputs name the same file" in result.stderr
    assert not Path(same).exists()


def test_an_engine_error_mid_stream_leaves_no_output(tmp_path):
    # a copy of the policies where one token (the fifth, in its own chunk) makes OPA fail while evaluating
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    rule = policies / "checks" / "legacy_token" / "legacy_token.rego"
    rule.write_text(rule.read_text() + '\n_severity(tok) := "low" if tok.name == "boom"\n')
    document = neutral_fixture()
    document["tokens"].append({**document["tokens"][0], "id": "npm-b00m", "name": "boom"})
    inventory = write_jsonl(tmp_path / "inv.jsonl", document)
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.json").write_text("earlier report\n")
    args = ["-f", "jsonl", "-f", "json", "-o", str(out / "new.jsonl"), "-o", str(out / "kept.json")]
    result = run_cli(
        "audit",
        str(inventory),
        *args,
        "--chunk-size",
        "1",
        "--workers",
        "1",
        "--policy-dir",
        str(policies),
        "--now",
        NOW,
        "--fail-on",
        "never",
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["kept.json"]  # no temporary file left, nothing replaced
    assert (out / "kept.json").read_text() == "earlier report\n"


def test_sorted_spool_merges_runs_in_key_order_and_keeps_equal_keys_in_order(tmp_path):
    spool = SortedSpool(run_bytes=250, max_runs=3)  # ~2 records a run, runs merged beyond 3
    records = [((3, "b"), b"first 3b"), ((1, "z"), b"1z"), ((3, "b"), b"second 3b"), ((2, "a"), b"2a")]
    records += [((1, "a"), b"1a"), ((3, "a"), b"3a"), ((3, "b"), b"third 3b"), ((0, "\u00e9"), b"0e")]
    for key, payload in records:
        spool.add(key, payload)
    expected = [
        ((0, "\u00e9"), b"0e"),
        ((1, "a"), b"1a"),
        ((1, "z"), b"1z"),
        ((2, "a"), b"2a"),
        ((3, "a"), b"3a"),
        ((3, "b"), b"first 3b"),
        ((3, "b"), b"second 3b"),
        ((3, "b"), b"third 3b"),
    ]
    assert list(spool) == expected
    assert list(spool) == expected  # read again
    assert spool.count == 8
    spool.close()


def test_report_stream_spilled_to_many_runs_writes_the_same_report(tmp_path):
    # The whole-file report, fed back piece by piece in a shuffled order through tiny sort buffers
    # (every record its own run, runs merged every 8): the same bytes come out.
    inventory = generated(tmp_path)
    whole = tmp_path / "whole.json"
    assert audit(str(inventory), "-f", "json", "-o", str(whole), *WHOLE).returncode == 0
    data = json.loads(whole.read_bytes())
    assert (len(data["findings"]), len(data["plans"]), len(data["skipped"])) == (914, 394, 5)
    audited = {t["key"]: True for t in data["tokens"]}
    revoke_ids = {p["token"]["key"]: p["token"]["revoke_id"] for p in data["plans"] if "revoke_id" in p["token"]}
    stream = JsonReportStream(audited, data["now"], Catalogue.load(ROOT / "policies"), run_bytes=1, max_runs=8)
    findings = data["findings"][:]
    random.Random(7).shuffle(findings)
    for finding in findings:
        gate = {k: finding.pop(k) for k in ("plan_id", "counts", "fails_gate")}
        stream.add_prepared([json.loads(json.dumps(finding))])
        assert stream.plan_of(finding) == gate["plan_id"]
        stream.add_finding({**finding, **gate})
    for entry in reversed(data["skipped"]):
        stream.add_skipped(entry)
    for fact in reversed(data["tokens"]):
        stream.add_token(fact, revoke_ids.get(fact["key"]))
    head = {k: data[k] for k in list(data)[: list(data).index("findings")]}
    tail = {k: data[k] for k in ("secrets_redacted", "rules", "evidence", "not_assessed", "gate")}
    out = tmp_path / "streamed.json"
    with out.open("wb") as handle:
        stream.write(handle, head, tail)
    stream.close()
    assert out.read_bytes() == whole.read_bytes()
