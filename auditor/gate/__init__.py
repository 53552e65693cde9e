"""The CI gate: baselines, waivers and which findings count toward the exit code; diffs of inventories."""

from __future__ import annotations

from auditor.findings.finding import at_or_above
from auditor.gate.baseline import apply_baseline, baseline_document, load_baseline
from auditor.gate.waivers import Waiver, apply_waivers, load_waivers
from auditor.report.model import Report


def apply_gate(
    report: Report,
    fail_on: str,
    baseline: tuple[str, set[str]] | None = None,
    waivers: tuple[str, list[Waiver]] | None = None,
) -> int:
    """Mark baseline/waived findings, set each finding's `counts`, add the report sections; return failing count."""
    findings = report.findings
    data = report.data
    if baseline is not None:
        data["baseline"] = apply_baseline(findings, baseline[1], baseline[0])
    if waivers is not None:
        data["waivers"] = apply_waivers(findings, waivers[1], waivers[0])
    for finding in findings:
        finding["counts"] = not finding.get("baseline") and not finding.get("waived")
    failing = sum(1 for f in findings if f["counts"] and at_or_above(f["severity"], fail_on))
    data["gate"] = {
        "fail_on": fail_on,
        "findings": len(findings),
        "counted": sum(1 for f in findings if f["counts"]),
        "waived": sum(1 for f in findings if f.get("waived")),
        "baseline": sum(1 for f in findings if f.get("baseline")),
        "failing": failing,
        "passed": failing == 0,
    }
    return failing


__all__ = ["Waiver", "apply_gate", "baseline_document", "load_baseline", "load_waivers"]
