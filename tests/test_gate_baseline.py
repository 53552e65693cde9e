"""Baselines: known findings stay visible but only new ones fail the gate; fingerprints are stable."""

from __future__ import annotations

import json

from tests.conftest import ROOT, run_cli

DATA = ROOT / "tests" / "data" / "gate"


def by_fingerprint(report: dict) -> dict:
    return {f["fingerprint"]: f for f in report["findings"]}


def test_baseline_marks_known_findings_and_only_new_ones_count(audit_json, tmp_path):
    code, before, _ = audit_json(DATA / "base.json")
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps(before))
    code, after, err = audit_json(DATA / "head.json", extra=("--baseline", str(earlier)))
    known = set(by_fingerprint(before))
    for fingerprint, finding in by_fingerprint(after).items():
        assert finding["baseline"] is (fingerprint in known)
        assert finding["counts"] is (fingerprint not in known)
    new_high = [f for f in after["findings"] if not f["baseline"] and f["severity"] in ("critical", "high")]
    assert new_high, "the fixture pair must introduce a high finding"
    assert code == 1, err
    section = after["baseline"]
    assert section["file"] == str(earlier)
    assert section["matched"] == len(known & set(by_fingerprint(after)))
    assert section["new"] == len(set(by_fingerprint(after)) - known)
    assert section["resolved"] == len(known - set(by_fingerprint(after)))
    assert after["gate"]["baseline"] == section["matched"]


def test_baseline_of_the_same_inventory_passes_the_gate(audit_json, tmp_path):
    base_file = tmp_path / "baseline.json"
    code, report, _ = audit_json(DATA / "head.json", extra=("--write-baseline", str(base_file)))
    assert code == 1
    written = json.loads(base_file.read_text())
    assert written["format"] == "token-auditor-baseline/v1"
    assert [e["fingerprint"] for e in written["findings"]] == sorted(by_fingerprint(report))
    code, again, err = audit_json(DATA / "head.json", extra=("--baseline", str(base_file)))
    assert code == 0, err
    assert again["findings"] and all(f["baseline"] and not f["counts"] for f in again["findings"])
    assert again["gate"]["counted"] == 0 and again["gate"]["passed"] is True


def test_fingerprints_stable_across_now_and_file_order_and_change_with_token(audit_json, tmp_path):
    distinct = json.loads((DATA / "base.json").read_text())
    distinct["tokens"] = [t for t in distinct["tokens"] if t["id"] == "tok-old-4"]  # not in head.json
    other = tmp_path / "z-other.json"
    other.write_text(json.dumps(distinct))
    renamed = json.loads((DATA / "head.json").read_text())
    renamed["tokens"][0]["id"] = "tok-legacy-1-rotated"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(renamed))

    _, first, _ = audit_json(DATA / "head.json")
    _, later, _ = audit_json(DATA / "head.json", extra=("--now", "2026-12-20T08:00:00Z"))
    legacy_fps = {f["fingerprint"] for f in first["findings"] if f["rule_id"] == "legacy-token"}
    assert legacy_fps <= set(by_fingerprint(later))
    _, mixed1, _ = audit_json(DATA / "head.json", other)
    _, mixed2, _ = audit_json(other, DATA / "head.json")
    assert sorted(by_fingerprint(mixed1)) == sorted(by_fingerprint(mixed2))
    _, after_change, _ = audit_json(changed)
    changed_fps = {f["fingerprint"] for f in after_change["findings"] if f["rule_id"] == "legacy-token"}
    assert len(changed_fps & legacy_fps) == 1  # tok-legacy-2 unchanged, tok-legacy-1 now another token


def test_bad_baseline_is_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"findings": [{"rule_id": "x"}]}')
    result = run_cli("audit", str(DATA / "head.json"), "--baseline", str(bad), "--now", "2026-11-25T00:00:00Z")
    assert result.returncode == 2
    assert result.stderr == (
        f"token-auditor: error: {bad}: /format: missing; a baseline is a file written by "
        "--write-baseline (format token-auditor-baseline/v1) or a JSON report of "
        "`token-auditor audit --format json`\n"
    )
    bad.write_text("not json")
    result = run_cli("audit", str(DATA / "head.json"), "--baseline", str(bad), "--now", "2026-11-25T00:00:00Z")
    assert result.returncode == 2 and result.stderr.startswith(f"token-auditor: error: {bad}:1:")
    assert len(result.stderr.splitlines()) == 1
