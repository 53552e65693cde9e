"""SARIF (official schema + GitHub upload rules), JUnit (Jenkins XSD), Markdown (size bound), several formats at once."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest
import xmlschema

from auditor.report.formats import FORMATS, render
from auditor.report.markdown import LIMIT
from auditor.report.model import Report
from auditor.saved_report import report_of
from tests.conftest import NOW, ROOT, run_cli, write_yaml

DATA = ROOT / "tests" / "data"
HEAD = DATA / "gate" / "head.json"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
JUNIT_XSD = xmlschema.XMLSchema(str(DATA / "jenkins-junit.xsd"))


def sarif_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def github_upload_problems(document: dict) -> list[str]:
    """GitHub code scanning's documented SARIF requirements and limits."""
    problems = []
    if document.get("version") != "2.1.0":
        problems.append("version must be 2.1.0")
    runs = document.get("runs") or []
    if not 1 <= len(runs) <= 20:
        problems.append("1..20 runs")
    for run in runs:
        driver = run["tool"]["driver"]
        if not driver.get("name"):
            problems.append("tool.driver.name required")
        rules = driver.get("rules") or []
        ids = [r["id"] for r in rules]
        if len(ids) != len(set(ids)):
            problems.append("rule ids must be unique")
        if len(rules) > 25_000:
            problems.append("too many rules")
        for rule in rules:
            tags = (rule.get("properties") or {}).get("tags") or []
            if len(tags) > 20:
                problems.append(f"{rule['id']}: more than 20 tags")
            severity = (rule.get("properties") or {}).get("security-severity")
            if severity is None or not 0.0 <= float(severity) <= 10.0:
                problems.append(f"{rule['id']}: security-severity must be a number 0..10")
            if not (rule.get("help") or {}).get("text"):
                problems.append(f"{rule['id']}: help text")
        results = run.get("results") or []
        if len(results) > 25_000:
            problems.append("too many results")
        for index, result in enumerate(results):
            where = f"result {index}"
            if not result.get("ruleId"):
                problems.append(f"{where}: ruleId")
            if "ruleIndex" in result and rules[result["ruleIndex"]]["id"] != result["ruleId"]:
                problems.append(f"{where}: ruleIndex points at another rule")
            if not (result.get("message") or {}).get("text", "").strip():
                problems.append(f"{where}: message.text")
            if not result.get("partialFingerprints"):
                problems.append(f"{where}: partialFingerprints")
            locations = result.get("locations") or []
            if not 1 <= len(locations) <= 1000:
                problems.append(f"{where}: 1..1000 locations")
            for location in locations:
                uri = location["physicalLocation"]["artifactLocation"]["uri"]
                if re.match(r"^[a-z][a-z0-9+.-]*:", uri) or uri.startswith("/") or "\\" in uri:
                    problems.append(f"{where}: location URI {uri!r} is not relative to the repository")
                if location["physicalLocation"].get("region", {}).get("startLine", 1) < 1:
                    problems.append(f"{where}: startLine")
    return problems


def synthetic_report(n: int, with_gate: bool = True) -> Report:
    """A large report with every kind of finding state, built the way build_report shapes it."""
    severities = ["critical", "high", "medium", "low", "info"]
    rules = [
        {
            "id": f"rule-{i}",
            "severity": severities[i % 5],
            "title": f"Rule {i} <b>|title|</b>",
            "description": "Why it matters. " * 5,
            "nhi": ["NHI2", "NHI5"],
            "recommended_action": "replace",
            "providers": [],
            "related_resources": ["https://example.org/doc"],
        }
        for i in range(6)
    ]
    tokens, findings = [], []
    for i in range(n):
        key = f"github:fine_grained_pat:{i}"
        tokens.append(
            {
                "key": key,
                "id": str(i),
                "provider": "github",
                "kind": "fine_grained_pat",
                "name": f"deploy|bot <{i}>",
                "owner": f"user{i % 7}",
                "masked": f"github_pat_…{i:04d}",
                "source": {"file": "inventories/github.json", "pointer": f"/tokens/{i}"},
            }
        )
        severity = severities[i % 5]
        finding = {
            "rule_id": f"rule-{i % 6}",
            "severity": severity,
            "title": "t",
            "nhi": ["NHI5"],
            "subject": {
                "type": "token",
                "key": key,
                "id": str(i),
                "provider": "github",
                "kind": "fine_grained_pat",
                "name": f"deploy|bot <{i}>",
                "owner": f"user{i % 7}",
                "masked": f"github_pat_…{i:04d}",
            },
            "instance": "",
            "message": f"token {i} can write to every repository | `rm -rf` *now*" + " x" * 40,
            "evidence": {},
            "recommendation": {
                "action": "narrow",
                "summary": "Limit it to the repositories it uses",
                "steps": ["Create a fine-grained token", "Revoke the old one"],
                "replacement": {"repositories": ["org/a", "org/b"], "permissions": {"contents": "read"}},
            },
            "fingerprint": f"{i:032x}",
            "provider": "github",
            "source": {"file": "inventories/github.json", "pointer": f"/tokens/{i}", "line": i + 2},
            "baseline": i % 4 == 0,
            "waived": i % 9 == 1,
        }
        if finding["waived"]:
            finding["waiver"] = {
                "reason": "accepted <for now>",
                "approved_by": "lead",
                "ticket": "SEC-1",
                "expires": "2026-12-31",
            }
        finding["counts"] = not finding["baseline"] and not finding["waived"]
        findings.append(finding)
    findings.append(
        {
            "rule_id": "org-rule-not-in-catalogue",
            "severity": "high",
            "title": "org",
            "nhi": [],
            "subject": {"type": "org", "key": "github:org:acme", "provider": "github", "name": "acme"},
            "message": "org acme allows classic tokens",
            "evidence": {},
            "recommendation": {"action": "set-policy"},
            "fingerprint": "f" * 32,
            "source": None,
            "counts": True,
        }
    )
    data = {
        "schema_version": "2.0",
        "tool": {"name": "token-auditor", "version": "0.1.0"},
        "engine": {"name": "opa", "opa_version": "1.22.3", "mode": "managed"},
        "policy": {"catalogue_version": "x", "catalogue_date": "2026-11-25", "rules": [r["id"] for r in rules]},
        "now": NOW,
        "config": {},
        "inputs": [
            {
                "path": "inventories/github.json",
                "sha256": "0" * 64,
                "format": "github",
                "provider": "github",
                "tokens": n,
            }
        ],
        "summary": {
            "tokens": n,
            "audited": n,
            "skipped": 0,
            "tokens_with_findings": n,
            "tokens_by_provider": {"github": n},
            "findings": len(findings),
            "by_severity": {s: sum(1 for f in findings if f["severity"] == s) for s in severities},
            "by_rule": {},
        },
        "findings": findings,
        "tokens": tokens,
        "skipped": [],
        "secrets_redacted": 0,
        "rules": rules,
        "baseline": {"file": "old.json", "fingerprints": n // 4, "matched": n // 4, "new": n - n // 4, "resolved": 0},
    }
    if with_gate:
        data["gate"] = {
            "fail_on": "high",
            "findings": len(findings),
            "counted": 0,
            "waived": 0,
            "baseline": 0,
            "failing": 1,
            "passed": False,
        }
    return report_of(data)


def test_formats_are_registered():
    assert {"sarif", "junit", "markdown"} <= set(FORMATS)


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


def junit_of(report: Report) -> ET.Element:
    text = render(report, "junit")
    JUNIT_XSD.validate(text)
    return ET.fromstring(text)


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


def test_markdown_puts_failing_findings_first_and_escapes():
    text = render(synthetic_report(20), "markdown")
    assert text.startswith("## token-auditor\n\n❌ **Gate failed**")
    failing = text.index("### Failing: at or above `high`")
    assert failing < text.index("<details>")
    assert "| 🟥 critical |" in text
    assert "<b>" not in text and "&lt;0&gt;" in text and "deploy\\|bot" in text
    assert "**Do (narrow):** Limit it to the repositories it uses" in text
    assert "waived until 2026-12-31" in text


@pytest.mark.parametrize("n", [5, 2000, 20000])
def test_markdown_stays_under_the_comment_limit(n):
    text = render(synthetic_report(n), "markdown")
    assert len(text) < 65_000 and len(text) <= LIMIT
    if n >= 2000:
        assert "more" in text and "see the JSON" in text
    assert text.count("<details>") == text.count("</details>")


def test_several_formats_in_one_run_and_output_errors(audit_json, tmp_path, opa_server):
    url, token = opa_server
    common = ("--now", NOW, "--opa-url", url, "--opa-token-env", "T")
    a, b = tmp_path / "a.sarif", tmp_path / "b.md"
    result = run_cli(
        "audit", str(HEAD), "-f", "sarif", "-o", str(a), "-f", "markdown", "-o", str(b), *common, env={"T": token}
    )
    assert result.returncode == 1 and a.exists() and b.read_text().startswith("## token-auditor")
    result = run_cli("audit", str(HEAD), "-f", "sarif", "-f", "markdown", *common, env={"T": token})
    assert result.returncode == 2 and "-o/--output" in result.stderr
    result = run_cli("audit", str(HEAD), "-f", "nope", *common, env={"T": token})
    assert result.returncode == 2 and "unknown format 'nope'" in result.stderr
    single = run_cli("audit", str(HEAD), "--format", "json", *common, env={"T": token})
    assert json.loads(single.stdout)["gate"]["failing"] >= 1
