"""Shared by the format tests: a synthetic report with every finding state, and the SARIF and JUnit validators."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date

import jsonschema
import xmlschema

from auditor.report.formats import render
from auditor.report.model import Report
from auditor.saved_report import report_of
from tests.conftest import NOW, ROOT

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


def junit_of(report: Report) -> ET.Element:
    text = render(report, "junit")
    JUNIT_XSD.validate(text)
    return ET.fromstring(text)


def small_report(fail_on: str = "high") -> Report:
    """Two tokens, three findings: a failing high one with a replacement, a waived high one, a medium one below
    the gate; through the real gate (apply_gate) like `audit` does."""
    from auditor.gate import apply_gate
    from auditor.gate.waivers import Waiver

    def finding(rule, severity, token, message, fingerprint, **extra):
        return {
            "rule_id": rule,
            "severity": severity,
            "title": rule,
            "nhi": ["NHI5"],
            "subject": {
                "type": "token",
                "key": f"github:classic_pat:{token['id']}",
                "id": token["id"],
                "provider": "github",
                "kind": "classic_pat",
                "name": token["name"],
                "owner": token["owner"],
                "masked": token["masked"],
            },
            "message": message,
            "evidence": {},
            "fingerprint": fingerprint,
            "provider": "github",
            "source": {"file": "inv.json", "pointer": f"/tokens/{token['id']}", "line": 3},
            **extra,
        }

    deploy = {"id": "1", "name": "deploy", "owner": "alice", "masked": "ghp_…aaaa"}
    notes = {"id": "2", "name": "notes", "owner": "bob", "masked": "ghp_…bbbb"}
    findings = [
        finding(
            "broad-scope",
            "high",
            deploy,
            "deploy holds repo",
            "a" * 32,
            recommendation={
                "action": "replace",
                "summary": "Replace it with a fine-grained token",
                "steps": ["Create the token", "Revoke the old one"],
                "replacement": {
                    "repositories": ["acme/app"],
                    "permissions": {"contents": "write", "metadata": "read"},
                    "needs_owner_input": True,
                    "question": "Which other repositories?",
                },
            },
        ),
        finding(
            "no-expiry",
            "high",
            notes,
            "notes never expires",
            "b" * 32,
            recommendation={"action": "rotate", "summary": "Set an expiry", "steps": ["Regenerate it"]},
        ),
        finding(
            "long-lived",
            "medium",
            deploy,
            "deploy is 400 days old",
            "c" * 32,
            recommendation={"action": "rotate", "summary": "Rotate it"},
        ),
    ]
    data = {
        "schema_version": "2.0",
        "tool": {"name": "token-auditor", "version": "9.9.9"},
        "engine": {"name": "opa", "opa_version": "1.22.3", "mode": "managed"},
        "policy": {
            "catalogue_version": "t",
            "catalogue_date": None,
            "rules": ["broad-scope", "no-expiry", "long-lived"],
        },
        "now": NOW,
        "config": {},
        "inputs": [{"path": "inv.json", "sha256": "0" * 64, "format": "github", "provider": "github", "tokens": 2}],
        "summary": {
            "tokens": 2,
            "audited": 2,
            "skipped": 0,
            "tokens_with_findings": 2,
            "tokens_by_provider": {"github": 2},
            "findings": 3,
            "by_severity": {"critical": 0, "high": 2, "medium": 1, "low": 0, "info": 0},
            "by_rule": {"broad-scope": 1, "long-lived": 1, "no-expiry": 1},
        },
        "findings": findings,
        "skipped": [],
        "secrets_redacted": 0,
    }
    waiver = Waiver(
        index=0,
        rule_id="no-expiry",
        match={"token_id": "2"},
        reason="moves to OIDC",
        approved_by="lead",
        ticket="SEC-9",
        expires=date(2026, 12, 31),
        file="w.yaml",
        pointer="/waivers/0",
        line=2,
    )
    report, _ = apply_gate(report_of(data), fail_on, waivers=("w.yaml", [waiver]))
    return report
