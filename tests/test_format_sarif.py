"""`--format sarif`: SARIF 2.1.0 valid against the OASIS schema and within GitHub code scanning's rules."""

from __future__ import annotations

import copy
import json
import re

from auditor.report.formats import render
from tests.conftest import NOW, ROOT, run_cli, write_yaml
from tests.format_support import HEAD, github_upload_problems, sarif_errors, small_report, synthetic_report


def test_sarif_of_a_real_audit_validates_and_meets_github_rules(audit_json, tmp_path, opa_server):
    waivers = write_yaml(
        tmp_path / "w.yaml",
        """\
waivers:
  - {rule_id: legacy-token, match: {token_id: tok-legacy-2}, reason: retiring, approved_by: lead, expires: 2026-12-31}
""",
    )
    out = tmp_path / "out"
    url, token = opa_server
    result = run_cli(
        "audit",
        str(HEAD.relative_to(ROOT)),
        "--now",
        NOW,
        "--waivers",
        str(waivers),
        "--output-dir",
        str(out),
        "-f",
        "sarif",
        "-f",
        "json",
        "--opa-url",
        url,
        "--opa-token-env",
        "T",
        env={"T": token},
    )
    assert result.returncode == 1, result.stderr
    sarif = json.loads((out / "token-auditor.sarif").read_text())
    report = json.loads((out / "token-auditor.json").read_text())
    assert sarif_errors(sarif) == []
    assert github_upload_problems(sarif) == []
    run = sarif["runs"][0]
    assert sorted(r["partialFingerprints"]["tokenAuditorFinding/v1"] for r in run["results"]) == sorted(
        f["fingerprint"] for f in report["findings"]
    )
    legacy_rule = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "legacy-token"][0]
    assert {"NHI4", "NHI5"} <= set(legacy_rule["properties"]["tags"])
    assert legacy_rule["properties"]["security-severity"] == "8.0"
    assert legacy_rule["help"]["text"]
    by_token = {r["properties"]["subject"]["id"]: r for r in run["results"] if r["ruleId"] == "legacy-token"}
    assert by_token["tok-legacy-1"]["level"] == "error" and "suppressions" not in by_token["tok-legacy-1"]
    assert by_token["tok-legacy-2"]["level"] == "warning"
    assert by_token["tok-legacy-2"]["suppressions"][0]["status"] == "accepted"
    assert "retiring" in by_token["tok-legacy-2"]["suppressions"][0]["justification"]
    location = by_token["tok-legacy-1"]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "tests/data/gate/head.json"
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith("#/tokens/0")
    assert not re.search(r"hf_[A-Za-z0-9]{8,}", json.dumps(sarif, ensure_ascii=False))  # only masked tokens


def test_sarif_of_a_large_synthetic_report_validates():
    report = synthetic_report(300)
    sarif = json.loads(render(report, "sarif"))
    assert sarif_errors(sarif) == []
    assert github_upload_problems(sarif) == []
    results = sarif["runs"][0]["results"]
    assert len(results) == 301
    assert {r["baselineState"] for r in results} == {"new", "unchanged"}
    assert sum(1 for r in results if r.get("suppressions")) == sum(1 for f in report.findings if f.get("waived"))
    org = [r for r in results if r["ruleId"] == "org-rule-not-in-catalogue"][0]
    assert org["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "inventories/github.json"
    line_of = {
        r["partialFingerprints"]["tokenAuditorFinding/v1"]: r["locations"][0]["physicalLocation"]["region"]
        for r in results
    }
    assert line_of[f"{5:032x}"] == {"startLine": 7}


def test_sarif_schema_check_is_not_vacuous():
    sarif = json.loads(render(synthetic_report(3), "sarif"))
    broken = copy.deepcopy(sarif)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert sarif_errors(broken)
    broken = copy.deepcopy(sarif)
    del broken["runs"][0]["results"][0]["message"]
    assert sarif_errors(broken)
    broken = copy.deepcopy(sarif)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "/abs/x.json"
    assert github_upload_problems(broken)


def test_waived_result_is_an_accepted_suppression_with_the_waiver_sentence():
    sarif = json.loads(render(small_report(), "sarif"))
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    assert results["no-expiry"]["suppressions"][0]["justification"] == (
        "moves to OIDC (approved by lead, SEC-9, until 2026-12-31)"
    )
    assert results["broad-scope"]["properties"]["subject"] == {
        "type": "token",
        "key": "github:classic_pat:1",
        "provider": "github",
        "kind": "classic_pat",
        "id": "1",
        "name": "deploy",
        "owner": "alice",
        "masked": "ghp_…aaaa",
    }
    assert "suppressions" not in results["broad-scope"]
