"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Built as plain dicts (the Python SARIF object-model packages are unmaintained since 2019); the tests
validate every document against the official OASIS schema and GitHub's upload rules.
One reportingDescriptor per rule, one result per finding, waived findings as accepted suppressions,
baseline state when a baseline was given. Locations are inventory files relative to the working
directory (the repository root in CI), with the line and the JSON pointer of the token.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from auditor import __version__, evidence
from auditor.findings.finding import severity_rank
from auditor.report.model import Finding, Report
from auditor.report.wording import waiver_sentence

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "tokenAuditorFinding/v1"
# GitHub maps security-severity to critical (≥9.0), high (7.0–8.9), medium (4.0–6.9), low (<4.0).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.5"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning upload limits (per run).
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_TAGS = 20


def artifact_uri(path: str | None, fallback: str = "inventory") -> str:
    """A relative URI (RFC 3986, '/' separators) for a file: relative to the working directory when inside it."""
    if not path or path in ("-", "<stdin>"):
        return fallback
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return candidate.resolve().as_uri()
    text = PurePosixPath(*candidate.parts).as_posix() if candidate.parts else fallback
    text = os.path.normpath(text).replace(os.sep, "/")
    return quote(text, safe="/-_.~")


def _rule_name(rule_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part) or rule_id


def rule_descriptor(rule: dict) -> dict:
    severity = rule.get("severity", "medium")
    tags = ["security", "nhi", *rule.get("nhi", []), *[f"provider:{p}" for p in rule.get("providers", [])]]
    help_lines = [rule.get("description") or rule.get("title") or rule["id"]]
    if rule.get("recommended_action"):
        help_lines.append(f"Recommended action: {rule['recommended_action']}.")
    if rule.get("nhi"):
        help_lines.append("OWASP Non-Human Identities Top 10 (2025): " + ", ".join(rule["nhi"]) + ".")
    references = [r for r in rule.get("related_resources", []) if r]
    markdown = "\n\n".join(help_lines)
    if references:
        markdown += "\n\nReferences:\n" + "\n".join(f"- <{r}>" for r in references)
    descriptor = {
        "id": rule["id"],
        "name": _rule_name(rule["id"]),
        "shortDescription": {"text": rule.get("title") or rule["id"]},
        "fullDescription": {"text": rule.get("description") or rule.get("title") or rule["id"]},
        "help": {
            "text": "\n\n".join(help_lines + ([f"References: {', '.join(references)}"] if references else [])),
            "markdown": markdown,
        },
        "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
        "properties": {
            "tags": list(dict.fromkeys(tags))[:MAX_TAGS],
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "precision": "high",
            "problem.severity": {"error": "error", "warning": "warning"}.get(LEVEL.get(severity, ""), "recommendation"),
            "nhi": list(rule.get("nhi", [])),
        },
    }
    if references and references[0].startswith(("http://", "https://")):
        descriptor["helpUri"] = references[0]
    return descriptor


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _message(finding: Finding) -> str:
    """Plain-text result message: the finding, then what to do (GitHub shows only this text inline)."""
    parts = [_sentence(finding["message"] or finding["title"] or finding["rule_id"])]
    recommendation = finding["recommendation"]
    if recommendation.get("summary"):
        parts.append(_sentence(f"Recommendation ({recommendation['action']}): {recommendation['summary']}"))
    for number, step in enumerate(recommendation.get("steps") or [], 1):
        parts.append(_sentence(f"({number}) {step}"))
    return " ".join(parts)


def _location(finding: Finding, fallback_file: str | None) -> dict:
    source = finding.get("source") or finding["subject"].get("source") or {}
    uri = artifact_uri(source.get("file") or fallback_file)
    physical: dict = {"artifactLocation": {"uri": uri}}
    if source.get("line"):
        physical["region"] = {"startLine": int(source["line"])}
    else:
        physical["region"] = {"startLine": 1}
    location: dict = {"physicalLocation": physical}
    subject = finding["subject"]
    logical = {"kind": "object", "fullyQualifiedName": f"{uri}#{source.get('pointer', '')}"}
    name = subject.get("name") or subject.get("id")
    if name:
        logical["name"] = str(name)
    location["logicalLocations"] = [logical]
    return location


def result(finding: Finding, rule_index: dict[str, int], fallback_file: str | None, with_baseline: bool) -> dict:
    severity = finding["severity"]
    subject = finding["subject"]
    out: dict[str, Any] = {
        "ruleId": finding["rule_id"],
        "level": LEVEL.get(severity, "warning"),
        "message": {"text": _message(finding)},
        "locations": [_location(finding, fallback_file)],
        "partialFingerprints": {FINGERPRINT_KEY: finding["fingerprint"]},
        "properties": {
            "severity": severity,
            "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
            "subject": {
                k: subject.get(k)
                for k in ("type", "key", "provider", "kind", "id", "name", "owner", "masked")
                if subject.get(k) is not None
            },
            "recommendation": finding["recommendation"],
            "counts": finding.get("counts", True),
        },
    }
    if finding["rule_id"] in rule_index:
        out["ruleIndex"] = rule_index[finding["rule_id"]]
    if with_baseline:
        out["baselineState"] = "unchanged" if finding.get("baseline") else "new"
    waiver = finding.get("waiver")
    if finding.get("waived") and waiver:
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": waiver_sentence(waiver),
                "properties": {"waiver": waiver},
            }
        ]
    return out


def build_log(
    findings: list[Finding],
    rules: list[dict],
    inputs: list[dict],
    *,
    with_baseline: bool = False,
    extra_rules: list[dict] | None = None,
    extra_results: list[dict] | None = None,
    properties: dict | None = None,
) -> dict:
    """A complete SARIF log (one run) for findings; extra_* let `diff` add its own rule and results."""
    known = {r["id"]: r for r in rules}
    used = sorted({f["rule_id"] for f in findings})
    descriptors = [rule_descriptor(known.get(rule_id) or {"id": rule_id, "severity": "medium"}) for rule_id in used]
    descriptors.extend(extra_rules or [])
    descriptors = descriptors[:MAX_RULES]
    rule_index = {d["id"]: i for i, d in enumerate(descriptors)}
    fallback = inputs[0]["path"] if inputs else None
    ordered = sorted(findings, key=lambda f: (severity_rank(f["severity"]), f["rule_id"], f["fingerprint"]))
    results = [result(f, rule_index, fallback, with_baseline) for f in ordered]
    for extra in extra_results or []:
        extra = dict(extra)
        if extra["ruleId"] in rule_index:
            extra["ruleIndex"] = rule_index[extra["ruleId"]]
        results.append(extra)
    notifications = []
    if len(results) > MAX_RESULTS:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{len(results)} results; only the {MAX_RESULTS} most severe are included (GitHub's limit). "
                    "The JSON report has all of them."
                },
            }
        )
        results = results[:MAX_RESULTS]
    artifacts = sorted({artifact_uri(i["path"]) for i in inputs})
    run = {
        "tool": {
            "driver": {
                "name": "token-auditor",
                "semanticVersion": __version__,
                "version": __version__,
                "rules": descriptors,
            }
        },
        "automationDetails": {"id": "token-auditor/"},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "artifacts": [{"location": {"uri": uri}, "roles": ["analysisTarget"]} for uri in artifacts],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if properties:
        run["properties"] = properties
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


class SarifFormat:
    name = "sarif"
    extension = "sarif"

    def render(self, report: Report) -> str:
        data = report.data
        properties = {
            "now": data["now"],
            "opa_version": data["engine"]["opa_version"],
            "catalogue_version": data["policy"]["catalogue_version"],
        }
        if data.get("gate"):
            properties["gate"] = data["gate"]
        log = build_log(
            report.findings,
            data.get("rules") or [],
            data["inputs"],
            with_baseline="baseline" in data,
            properties=properties,
        )
        # Rules that could not run for an organization: a warning, never a silent pass.
        log["runs"][0]["invocations"][0]["toolExecutionNotifications"] += [
            {
                "level": "warning",
                "associatedRule": {"id": row["rule_id"]},
                "message": {
                    "text": f"{row['rule_id']} not assessed for {row['provider']} {row['org']}: missing "
                    f"{row['missing']}. To assess it: {row['how']}."
                },
            }
            for row in evidence.report_rows(data)
        ]
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
