"""`--format junit`: JUnit XML valid against the Jenkins XSD; one suite per rule, failures exactly where the gate fails."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import xmlschema

from auditor.report.formats import render
from tests.conftest import NOW, run_cli
from tests.format_support import HEAD, JUNIT_XSD, junit_of, small_report, synthetic_report


def test_junit_of_a_real_audit_is_valid_and_counts_match(audit_json, tmp_path, opa_server):
    url, token = opa_server
    out = tmp_path / "report.xml"
    result = run_cli(
        "audit",
        str(HEAD),
        "--now",
        NOW,
        "-f",
        "junit",
        "-o",
        str(out),
        "--opa-url",
        url,
        "--opa-token-env",
        "T",
        env={"T": token},
    )
    assert result.returncode == 1, result.stderr
    JUNIT_XSD.validate(str(out))
    root = ET.parse(out).getroot()
    suite = root.find("testsuite[@name='legacy-token']")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == 3  # one per audited token
    failing = [name for name, case in cases.items() if case.find("failure") is not None]
    assert failing == ["huggingface ci-publish (owner alice) hf_…a1b2"]
    medium = cases["huggingface notebook-read (owner bob) hf_…c3d4"]
    assert medium.find("failure") is None and "below --fail-on high" in medium.find("system-out").text
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    assert int(root.get("failures")) == sum(int(s.get("failures")) for s in root.findall("testsuite"))


def test_junit_of_a_large_synthetic_report_is_valid():
    root = junit_of(synthetic_report(200))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {f"rule-{i}" for i in range(6)} | {"org-rule-not-in-catalogue"}
    assert len(suites["rule-0"].findall("testcase")) == 200
    assert suites["org-rule-not-in-catalogue"].find("testcase/failure") is not None
    skipped = suites["rule-1"].findall("testcase/skipped")
    assert skipped and all("waived" in s.text or "baseline" in s.text for s in skipped)


def test_junit_xsd_check_is_not_vacuous():
    text = render(synthetic_report(2), "junit").replace("<testcase ", "<testcase bogus='1' ", 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        JUNIT_XSD.validate(text)


def test_waived_case_is_skipped_with_the_waiver_sentence_and_failures_follow_the_gate():
    root = junit_of(small_report())
    suite = root.find("testsuite[@name='no-expiry']")
    [case] = [c for c in suite.findall("testcase") if c.get("name") == "github notes (owner bob) ghp_…bbbb"]
    assert case.find("skipped").text == "waived: moves to OIDC (approved by lead, SEC-9, until 2026-12-31)"
    failed = [
        c.get("name") for s in root.findall("testsuite") for c in s.findall("testcase") if c.find("failure") is not None
    ]
    assert failed == ["github deploy (owner alice) ghp_…aaaa"]
    report = small_report()
    report.findings[0]["fails_gate"] = False  # junit reads the gate's decision
    assert [c for c in junit_of(report).iter("failure")] == []
