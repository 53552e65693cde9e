"""`--format markdown`: a pull-request comment (GitHub/GitLab flavoured Markdown).

Summary line, a severity table, the findings at or above --fail-on first with their recommendation,
everything else in collapsible <details>. GitHub rejects comments over 65,536 characters, so the
comment is kept under LIMIT by listing fewer findings in full and summarising the rest.
"""

from __future__ import annotations

from auditor import evidence
from auditor.findings.finding import SEVERITIES
from auditor.frameworks import compliance_markdown
from auditor.report.markdown_blocks import (
    FINDING_TABLE,
    ICON,
    LIMIT,
    clip,
    details,
    esc,
    finding_block,
    finding_row,
    fit,
    waiver_rows,
)
from auditor.report.model import Report
from auditor.report.plans import markdown_first


class MarkdownFormat:
    name = "markdown"
    extension = "md"

    def render(self, report: Report, limit: int = LIMIT) -> str:
        data = report.data
        summary = data["summary"]
        gate = data.get("gate")
        fail_on = gate["fail_on"] if gate else "high"
        findings = report.findings
        failing = [f for f in findings if f["fails_gate"]]
        failing_ids = {id(f) for f in failing}
        others = [f for f in findings if id(f) not in failing_ids]
        verdict = "❌ **Gate failed**" if failing else "✅ **Gate passed**"
        threshold = "never fails" if fail_on == "never" else f"fails at `{fail_on}` and above"
        parts = [
            "## token-auditor",
            "",
            f"{verdict}: {len(failing)} finding(s) that count at or above `{fail_on}` · "
            f"{summary['findings']} finding(s) on {summary['tokens_with_findings']} of {summary['audited']} audited "
            f"token(s) · {summary['skipped']} skipped · gate {threshold}"
            + (f" · {gate['waived'] if gate else 0} waived" if "waivers" in data else "")
            + (f" · {gate['baseline'] if gate else 0} in baseline" if "baseline" in data else ""),
            "",
            "| severity | findings | counting | waived | baseline |",
            "|---|---:|---:|---:|---:|",
        ]
        for severity in SEVERITIES:
            group = [f for f in findings if f["severity"] == severity]
            parts.append(
                f"| {ICON[severity]} {severity} | {len(group)} | "
                f"{sum(1 for f in group if f.get('counts', True))} | "
                f"{sum(1 for f in group if f.get('waived'))} | {sum(1 for f in group if f.get('baseline'))} |"
            )
        parts.append("")
        tail = self._tail(report)
        footer = [
            f"<sub>token-auditor {esc(data['tool']['version'])} · OPA {esc(data['engine']['opa_version'])} · "
            f"catalogue {esc(data['policy']['catalogue_version'])} · now {esc(data['now'])}</sub>",
            "",
        ]
        budget = limit - len("\n".join(parts + tail + footer)) - 1500  # headings and <details> wrappers
        if failing and data.get("plans"):
            first = markdown_first(data, int(budget * 0.35))
            parts += first
            budget -= len("\n".join(first))
        if failing:
            blocks, used = fit(
                [finding_block(f) for f in failing],
                int(budget * 0.6),
                "_… and {n} more failing finding(s), listed in the table below and in the JSON/SARIF report._\n",
            )
            parts += [f"### Failing: at or above `{fail_on}` ({len(failing)})", "", *blocks]
            budget -= used
            shown = len([b for b in blocks if b.startswith("####")])
            rest_failing = failing[shown:]
            if rest_failing:
                rows, used = fit(
                    [finding_row(f) for f in rest_failing],
                    budget // 2,
                    "| … | | {n} more | | see the JSON/SARIF report | |",
                )
                parts += details(f"More failing findings ({len(rest_failing)})", FINDING_TABLE + rows)
                budget -= used
        if others:
            rows, used = fit(
                [finding_row(f) for f in others], max(budget, 0), "| … | | {n} more | | see the JSON/SARIF report | |"
            )
            parts += details(
                f"Other findings ({len(others)}): below the threshold, waived or baseline", FINDING_TABLE + rows
            )
        if not findings:
            parts += ["No findings.", ""]
        text = "\n".join(parts + tail + footer)
        return clip(text, limit, "JSON report")

    def _tail(self, report: Report) -> list[str]:
        data = report.data
        parts: list[str] = []
        waivers = data.get("waivers")
        if waivers:
            for title, key in (
                ("Active waivers", "active"),
                ("Expired waivers (no longer waive)", "expired"),
                ("Unused waivers (matched nothing)", "unused"),
            ):
                entries = waivers.get(key) or []
                if entries:
                    rows, _ = fit(waiver_rows(entries), 6000, "| … {n} more | | | | | | |")
                    parts += details(f"{title} ({len(entries)})", rows)
        baseline = data.get("baseline")
        if baseline:
            parts += [
                f"Baseline `{esc(baseline['file'])}`: {baseline['matched']} known, {baseline['new']} new, "
                f"{baseline['resolved']} resolved since.",
                "",
            ]
        not_assessed = evidence.report_rows(data)
        if not_assessed:
            rows = ["| rule | provider | organization | missing | to assess it |", "|---|---|---|---|---|"]
            rows += [
                f"| `{esc(r['rule_id'])}` | {esc(r['provider'])} | {esc(r['org'])} | {esc(r['missing'])} | "
                f"{esc(r['how'])} |"
                for r in not_assessed
            ]
            rows, _ = fit(rows, 6000, "| … {n} more | | | | |")
            parts += [f"⚠️ **Not assessed**: {esc(evidence.headline(data))}.", ""]
            parts += details(f"Not assessed ({len(not_assessed)})", rows)
        compliance = compliance_markdown(report.compliance)
        if compliance:
            parts += details(
                "Compliance: OWASP NHI 2025 and CIS GitHub, pass / fail / not assessed / manual per requirement",
                compliance.splitlines(),
            )
        skipped = data["skipped"]
        if skipped:
            rows = ["| provider | item | reason |", "|---|---|---|"]
            rows += [
                f"| {esc(s['provider'])} | {esc(s.get('name') or s['id'])} | {esc(s['reason'])} |" for s in skipped
            ]
            rows, _ = fit(rows, 4000, "| … {n} more | | |")
            parts += details(f"Skipped ({len(skipped)})", rows)
        return parts
