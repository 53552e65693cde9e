"""The CI gate: baselines, waivers and which findings count toward the exit code; diffs of inventories.

The gate is the one place that decides a finding's state. It sets, on every finding:
  baseline    (with --baseline) its fingerprint is in the earlier report
  waived      (with --waivers) an active waiver covers it
  counts      neither baseline nor waived
  fails_gate  counts and is at or above --fail-on: it makes the run exit 1
Formats read these fields and never work them out again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NamedTuple

from auditor.findings.finding import at_or_above
from auditor.frameworks import assess_all
from auditor.gate.baseline import apply_baseline, baseline_document, load_baseline
from auditor.gate.waivers import Waiver, apply_waivers, load_waivers
from auditor.report.model import Finding, Gate, Report


def judge(findings: Iterable[Finding], fail_on: str) -> list[Finding]:
    """Set `counts` and `fails_gate` on each finding (baseline and waived already marked); the failing ones."""
    failing = []
    for finding in findings:
        finding["counts"] = not finding.get("baseline") and not finding.get("waived")
        finding["fails_gate"] = finding["counts"] and at_or_above(finding["severity"], fail_on)
        if finding["fails_gate"]:
            failing.append(finding)
    return failing


def judge_saved(findings: Iterable[dict[str, Any]], fail_on: str) -> None:
    """`fails_gate` for the findings of a report saved before it existed (schema 1.x): its own `counts` stand."""
    for finding in findings:
        if "fails_gate" not in finding:
            finding["fails_gate"] = finding.get("counts", True) and at_or_above(finding["severity"], fail_on)


class Gated(NamedTuple):
    report: Report  # the completed report: every format renders this one
    failing: int  # findings that fail the gate (exit 1 when any)


def apply_gate(
    report: Report,
    fail_on: str,
    baseline: tuple[str, set[str]] | None = None,
    waivers: tuple[str, list[Waiver]] | None = None,
) -> Gated:
    """Complete the report once: mark baseline/waived findings, set each finding's `counts` and `fails_gate`, add
    the `baseline`, `waivers` and `gate` sections (in report.data, in place), and assess compliance again now
    that waivers are known. Returns the completed report and how many findings fail the gate."""
    findings = report.findings
    data = report.data
    if baseline is not None:
        data["baseline"] = apply_baseline(findings, baseline[1], baseline[0])
    if waivers is not None:
        data["waivers"] = apply_waivers(findings, waivers[1], waivers[0])
    failing = len(judge(findings, fail_on))
    gate: Gate = {
        "fail_on": fail_on,
        "findings": len(findings),
        "counted": sum(1 for f in findings if f["counts"]),
        "waived": sum(1 for f in findings if f.get("waived")),
        "baseline": sum(1 for f in findings if f.get("baseline")),
        "failing": failing,
        "passed": failing == 0,
    }
    data["gate"] = gate
    return Gated(replace(report, compliance=assess_all(data, report.frameworks)), failing)


__all__ = [
    "Gated",
    "Waiver",
    "apply_gate",
    "baseline_document",
    "judge",
    "judge_saved",
    "load_baseline",
    "load_waivers",
]
