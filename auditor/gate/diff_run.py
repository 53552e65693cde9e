"""Run a diff: read both sides, evaluate both with the policies, compare tokens and findings."""

from __future__ import annotations

from collections import Counter

from auditor.audit import AuditOptions, build_report, evaluate, load_config, read_inventory, resolve_now
from auditor.findings.finding import SEVERITIES
from auditor.gate import judge
from auditor.gate.diff import BROADER, NARROWER, NEUTRAL, diff_findings, diff_tokens
from auditor.gate.waivers import Waiver, apply_waivers
from auditor.report.model import SCHEMA_VERSION, Finding

KIND = "token-auditor-diff"


def _line_of(documents):
    def line_of(file: str, pointer: str) -> int | None:
        document = documents.get(file)
        return document.line_of(pointer) if document else None

    return line_of


def _side(paths: list[str], options: AuditOptions, now: str, config: dict, with_findings: bool):
    inventory, documents = read_inventory(paths, options)
    report = None
    if with_findings:
        raw, opa = evaluate(inventory, now, config, options)
        report = build_report(inventory, documents, raw, now, config, options, opa)
    return inventory, documents, report


def run_diff(
    base_paths: list[str],
    head_paths: list[str],
    options: AuditOptions,
    *,
    fail_on: str = "high",
    fail_on_broadening: bool = False,
    with_findings: bool = True,
    waivers: tuple[str, list[Waiver]] | None = None,
) -> dict:
    """The diff document (JSON-shaped; every diff format renders it)."""
    now = resolve_now(options.now)
    config = load_config(options.config_file)
    base_inv, base_docs, base_report = _side(base_paths, options, now, config, with_findings)
    head_inv, head_docs, head_report = _side(head_paths, options, now, config, with_findings)
    tokens = diff_tokens(base_inv.tokens, head_inv.tokens, _line_of(base_docs), _line_of(head_docs))
    introduced: list[Finding] = []
    resolved: list[Finding] = []
    if with_findings:
        introduced, resolved = diff_findings(base_report.findings, head_report.findings)
    data: dict = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "tool": (head_report.data["tool"] if head_report else {"name": "token-auditor"}),
        "engine": head_report.data["engine"] if head_report else None,
        "policy": head_report.data["policy"] if head_report else None,
        "now": now,
    }
    if data["tool"] == {"name": "token-auditor"}:
        from auditor import __version__

        data["tool"] = {"name": "token-auditor", "version": __version__}
    if waivers is not None:
        data["waivers"] = apply_waivers(introduced, waivers[1], waivers[0])
    failing = judge(introduced, fail_on)  # the baseline of a diff is BASE itself: what it has is not introduced
    status = Counter(t["status"] for t in tokens)
    classes = Counter(t["classification"] for t in tokens)
    broadening = [c for t in tokens for c in t["changes"] if c["classification"] == BROADER]
    data.update(
        {
            "base": _side_summary(base_paths, base_inv, base_report),
            "head": _side_summary(head_paths, head_inv, head_report),
            "summary": {
                "added": status.get("added", 0),
                "removed": status.get("removed", 0),
                "changed": status.get("changed", 0),
                "unchanged": len({t["key"] for t in head_inv.tokens} & {t["key"] for t in base_inv.tokens})
                - status.get("changed", 0),
                "broader": classes.get(BROADER, 0),
                "narrower": classes.get(NARROWER, 0),
                "neutral": classes.get(NEUTRAL, 0),
                "broadening_changes": len(broadening),
                "findings_compared": with_findings,
                "findings_introduced": len(introduced),
                "findings_resolved": len(resolved),
                "introduced_by_severity": {s: sum(1 for f in introduced if f["severity"] == s) for s in SEVERITIES},
            },
            "tokens": tokens,
            "findings": {"introduced": introduced, "resolved": resolved},
            "rules": head_report.data["rules"] if head_report else [],
            "gate": {
                "fail_on": fail_on,
                "fail_on_broadening": fail_on_broadening,
                "failing_findings": len(failing),
                "broadening": classes.get(BROADER, 0),
                "passed": not failing and not (fail_on_broadening and classes.get(BROADER, 0)),
            },
        }
    )
    return data


def _side_summary(paths: list[str], inventory, report) -> dict:
    return {
        "paths": list(paths),
        "inputs": [i.as_dict() for i in sorted(inventory.inputs, key=lambda i: i.path)],
        "tokens": len(inventory.tokens),
        "skipped": len(inventory.skipped),
        "findings": len(report.findings) if report else None,
    }
