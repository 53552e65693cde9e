"""Compliance mappings: the shipped files are valid, rule ids resolve, and statuses follow the findings."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ROOT, run_cli

from auditor.errors import InputError
from auditor.findings import load_rules
from auditor.frameworks import assess, assess_all, compliance_markdown, coverage, find_framework, load_frameworks

POLICIES = ROOT / "policies"
OWASP_TITLES = {
    "NHI1": "Improper Offboarding",
    "NHI2": "Secret Leakage",
    "NHI3": "Vulnerable Third-Party NHI",
    "NHI4": "Insecure Authentication",
    "NHI5": "Overprivileged NHI",
    "NHI6": "Insecure Cloud Deployment Configurations",
    "NHI7": "Long-Lived Secrets",
    "NHI8": "Environment Isolation",
    "NHI9": "NHI Reuse",
    "NHI10": "Human Use of NHI",
}


def _report(findings=(), providers=None, rules=None) -> dict:
    catalogue = rules if rules is not None else [r.as_dict() for r in load_rules(POLICIES)]
    return {
        "summary": {"tokens_by_provider": providers or {"huggingface": 1}},
        "rules": catalogue,
        "findings": list(findings),
    }


def _finding(rule_id, provider="huggingface", severity="high", **extra) -> dict:
    return {
        "rule_id": rule_id,
        "severity": severity,
        "provider": provider,
        "subject": {"type": "token", "key": f"{provider}:t:1", "provider": provider},
        **extra,
    }


def test_shipped_frameworks_load_and_owasp_lists_all_ten_risks():
    frameworks = {f.id: f for f in load_frameworks(POLICIES)}
    assert {"owasp-nhi-2025", "cis-github-benchmark"} <= set(frameworks)
    owasp = frameworks["owasp-nhi-2025"]
    assert {r.id: r.title for r in owasp.requirements} == OWASP_TITLES
    # Every requirement either names rules or says what a person must check.
    for framework in frameworks.values():
        for requirement in framework.requirements:
            assert requirement.mapped or requirement.manual, (framework.id, requirement.id)


def test_every_rule_tagged_with_an_nhi_id_checks_that_requirement():
    owasp = find_framework(load_frameworks(POLICIES), "owasp-nhi-2025")
    catalogue = [r.as_dict() for r in load_rules(POLICIES)]
    rows = {row["id"]: row for row in coverage(owasp, catalogue)}
    for rule in catalogue:
        for nhi in rule["nhi"]:
            assert rule["id"] in rows[nhi]["rules"], (rule["id"], nhi)
    assert "legacy-token" in rows["NHI4"]["rules"]
    assert rows["NHI10"]["coverage"] == "manual"


def test_status_fail_pass_manual_and_not_applicable():
    owasp = find_framework(load_frameworks(POLICIES), "owasp-nhi-2025")
    rows = {r["id"]: r for r in assess(owasp, _report([_finding("legacy-token")]))}
    assert rows["NHI4"]["status"] == "fail" and rows["NHI4"]["failed_rules"] == ["legacy-token"]
    assert rows["NHI5"]["status"] == "fail"
    assert rows["NHI10"]["status"] == "manual"
    assert rows["NHI1"]["status"] == "pass"
    # A waived finding does not fail its requirement.
    rows = {r["id"]: r for r in assess(owasp, _report([_finding("legacy-token", waived=True)]))}
    assert rows["NHI4"]["status"] == "pass"
    # CIS GitHub applies to GitHub tokens only.
    cis = find_framework(load_frameworks(POLICIES), "cis-github-benchmark")
    rows = {r["id"]: r for r in assess(cis, _report([_finding("stale-token")]))}
    assert rows["1.4.2"]["status"] == "n/a"
    stale_app = _finding("stale-token", provider="github")
    stale_app["subject"]["kind"] = "oauth_app_token"
    rows = {r["id"]: r for r in assess(cis, _report([stale_app], providers={"github": 1}))}
    assert rows["1.4.2"]["status"] == "fail"
    assert rows["1.3.5"]["status"] == "manual"
    # 1.4.2 is about applications: a stale personal token does not fail it.
    stale_pat = _finding("stale-token", provider="github")
    stale_pat["subject"]["kind"] = "fine_grained_pat"
    rows = {r["id"]: r for r in assess(cis, _report([stale_pat], providers={"github": 1}))}
    assert rows["1.4.2"]["status"] == "pass" and rows["1.4.2"]["findings"] == 0


def test_rules_missing_from_catalogue_are_reported_not_counted():
    owasp = find_framework(load_frameworks(POLICIES), "owasp-nhi-2025")
    rows = {
        r["id"]: r
        for r in assess(owasp, _report([_finding("legacy-token")], rules=[{"id": "legacy-token", "nhi": ["NHI4"]}]))
    }
    assert rows["NHI4"]["status"] == "fail"
    assert rows["NHI7"]["status"] == "manual" and "unrotated-token" in rows["NHI7"]["missing_rules"]


def test_compliance_markdown_hook_escapes_and_lists_statuses():
    text = compliance_markdown(assess_all(_report([_finding("legacy-token")]), load_frameworks(POLICIES)))
    assert "**OWASP Top 10 Non-Human Identities 2025**:" in text
    assert "| NHI4 | Insecure Authentication | fail | `legacy-token` |" in text


def test_bad_mapping_file_is_a_one_line_input_error(tmp_path):
    policy_dir = tmp_path / "policies"
    shutil.copytree(POLICIES / "frameworks", policy_dir / "frameworks")
    (policy_dir / "frameworks" / "broken.yaml").write_text(
        "broken:\n  format: framework-mapping/v1\n  title: x\n  requirements: [{id: A, title: a, rules: [Bad Id]}]\n"
    )
    with pytest.raises(InputError, match=r"broken.yaml: /broken/requirements/0/rules/0: "):
        load_frameworks(policy_dir)
    result = run_cli("frameworks", "--policy-dir", str(policy_dir))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_frameworks_command_lists_coverage_and_statuses(tmp_path):
    result = run_cli("frameworks")
    assert result.returncode == 0, result.stderr
    assert "owasp-nhi-2025" in result.stdout and "cis-github-benchmark" in result.stdout
    result = run_cli("frameworks", "owasp-nhi-2025", "-f", "json")
    rows = {r["id"]: r for r in json.loads(result.stdout)[0]["requirements"]}
    assert rows["NHI4"]["coverage"] in {"automated", "partial"} and "legacy-token" in rows["NHI4"]["rules"]
    result = run_cli("frameworks", "no-such-framework")
    assert result.returncode == 2 and "unknown framework 'no-such-framework'" in result.stderr
