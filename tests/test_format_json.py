"""`--format json`: the report document itself, byte for byte what stdlib json.dumps(indent=2) would write."""

from __future__ import annotations

import json

from auditor.report.formats import FORMATS
from auditor.report.json_format import JsonFormat
from auditor.report.model import Report
from tests.format_support import small_report


def test_gate_state_and_masked_token_are_in_the_document():
    document = json.loads(FORMATS["json"].render(small_report()))
    assert document["schema_version"] == "2.0"
    assert [(f["rule_id"], f["counts"], f["fails_gate"], f.get("waived")) for f in document["findings"]] == [
        ("broad-scope", True, True, False),
        ("no-expiry", False, False, True),
        ("long-lived", True, False, False),
    ]
    assert document["findings"][0]["subject"]["masked"] == "ghp_…aaaa"
    assert "fingerprint" not in document["findings"][0]["subject"]
    assert document["gate"] == {
        "fail_on": "high",
        "findings": 3,
        "counted": 2,
        "waived": 1,
        "baseline": 0,
        "failing": 1,
        "passed": False,
    }


def test_json_report_bytes_match_stdlib_json():
    data = {
        "schema_version": "1",
        "now": "2026-11-25T00:00:00Z",
        "empty": [],
        "none": {},
        "n": None,
        "flag": True,
        "count": 3,
        "ratio": 0.25,
        "text": 'émoji ✓ "quoted" \\ slash\n',
        "findings": [{"b": 1, "a": [1, {"z": []}]}],
    }
    expected = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    assert JsonFormat().render(Report(data)) == expected
    huge = {"big": 2**70}  # orjson refuses it; the stdlib fallback writes it
    assert JsonFormat().render(Report(huge)) == json.dumps(huge, indent=2) + "\n"
