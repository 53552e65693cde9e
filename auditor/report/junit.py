"""`--format junit`: JUnit XML as CI servers read it (Jenkins/GitLab/Azure test reports).

One <testsuite> per rule, one <testcase> per audited token the rule applies to (rules without a provider
list apply to every token), plus one per non-token subject (org, location) that has a finding.
A finding that counts and is at or above --fail-on is a <failure>; a waived or baseline finding is
<skipped> with its reason; a finding below --fail-on is listed in <system-out> so the suite stays green
exactly when the gate passes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from auditor import evidence
from auditor.report.model import Finding, Report
from auditor.report.text import xml_safe
from auditor.report.wording import subject_name, waiver_sentence


def _clean(text) -> str:
    """XML 1.0 forbids control characters and non-characters (U+FFFE, U+FFFF, …): replaced, never emitted."""
    return xml_safe(text)


def _label(subject: Mapping[str, Any]) -> str:
    name = subject_name(subject) or "?"
    masked = subject.get("masked")
    owner = subject.get("owner")
    text = f"{subject.get('provider') or 'any'} {name}"
    if owner:
        text += f" (owner {owner})"
    if masked:
        text += f" {masked}"
    return text


def _details(finding: Finding) -> str:
    lines = [finding["message"]]
    source = finding.get("source") or {}
    if source.get("file"):
        where = f"{source['file']}:{source['line']}" if source.get("line") else source["file"]
        lines.append(f"where: {where} {source.get('pointer', '')}".rstrip())
    recommendation = finding["recommendation"]
    if recommendation.get("summary"):
        lines.append(f"do: {recommendation['action']}: {recommendation['summary']}")
    lines.extend(f"  - {step}" for step in recommendation.get("steps") or [])
    lines.append(f"fingerprint: {finding['fingerprint']}")
    return "\n".join(_clean(line) for line in lines)


def _skip_reason(finding: Finding) -> str | None:
    if finding.get("waived") and "waiver" in finding:
        return f"waived: {waiver_sentence(finding['waiver'])}"
    if finding.get("baseline"):
        return "in the baseline (known before this change)"
    return None


class JunitFormat:
    name = "junit"
    extension = "xml"

    def render(self, report: Report) -> str:
        data = report.data
        gate = data.get("gate")
        fail_on = gate["fail_on"] if gate else "high"
        tokens = data.get("tokens") or []
        by_rule_subject: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        extra_subjects: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
        token_keys = {t["key"] for t in tokens}
        for finding in report.findings:
            key = finding["subject"]["key"]
            by_rule_subject[(finding["rule_id"], key)].append(finding)
            if key not in token_keys:
                extra_subjects[finding["rule_id"]][key] = finding["subject"]
        rules = list(data.get("rules") or [])
        known = {r["id"] for r in rules}
        rules += [
            {"id": rule_id, "title": rule_id, "severity": "medium", "providers": []}
            for rule_id in sorted({f["rule_id"] for f in report.findings} - known)
        ]

        not_assessed: dict[str, list[dict]] = defaultdict(list)
        for row in evidence.report_rows(data):
            not_assessed[row["rule_id"]].append(row)
        root = ET.Element("testsuites", name="token-auditor")
        totals = {"tests": 0, "failures": 0, "skipped": 0}
        for rule in rules:
            providers = set(rule.get("providers") or [])
            subjects: list[Mapping[str, Any]] = [t for t in tokens if not providers or t["provider"] in providers]
            subjects += sorted(extra_subjects.get(rule["id"], {}).values(), key=lambda s: s["key"])
            suite = ET.SubElement(root, "testsuite", name=_clean(rule["id"]))
            properties = ET.SubElement(suite, "properties")
            for name, value in (
                ("title", rule.get("title", "")),
                ("severity", rule.get("severity", "")),
                ("nhi", ",".join(rule.get("nhi", []))),
                ("fail_on", fail_on),
            ):
                ET.SubElement(properties, "property", name=name, value=_clean(value))
            counts = {"tests": 0, "failures": 0, "skipped": 0}
            for subject in subjects:
                counts["tests"] += 1
                case = ET.SubElement(
                    suite,
                    "testcase",
                    name=_clean(_label(subject)),
                    classname=_clean(f"token-auditor.{rule['id']}.{subject.get('provider') or 'any'}"),
                    time="0",
                )
                findings = by_rule_subject.get((rule["id"], subject["key"]), [])
                failing = [f for f in findings if f["fails_gate"]]
                skipped = [f for f in findings if _skip_reason(f)]
                below = [f for f in findings if f not in failing and f not in skipped]
                if skipped and not failing:
                    counts["skipped"] += 1
                    ET.SubElement(case, "skipped").text = _clean("; ".join(str(_skip_reason(f)) for f in skipped))
                for finding in failing:
                    failure = ET.SubElement(
                        case, "failure", type=finding["severity"], message=_clean(finding["message"])
                    )
                    failure.text = _details(finding)
                if failing:
                    counts["failures"] += 1
                notes = [f"[{f['severity']}, below --fail-on {fail_on}] {_details(f)}" for f in below]
                notes += [f"[{_skip_reason(f)}] {_details(f)}" for f in skipped] if failing else []
                if notes:
                    ET.SubElement(case, "system-out").text = _clean("\n\n".join(notes))
            for row in not_assessed.get(rule["id"], []):  # evidence missing: skipped, never passed
                counts["tests"] += 1
                counts["skipped"] += 1
                case = ET.SubElement(
                    suite,
                    "testcase",
                    name=_clean(f"{row['provider']} {row['org']} (not assessed)"),
                    classname=_clean(f"token-auditor.{rule['id']}.{row['provider']}"),
                    time="0",
                )
                ET.SubElement(case, "skipped").text = _clean(
                    f"not assessed: missing {row['missing']}; to assess it: {row['how']}"
                )
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
            suite.set("errors", "0")
            suite.set("time", "0")
        root.set("tests", str(totals["tests"]))
        root.set("failures", str(totals["failures"]))
        root.set("errors", "0")
        root.set("time", "0")
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
