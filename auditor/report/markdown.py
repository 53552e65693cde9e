"""`--format markdown`: a pull-request comment (GitHub/GitLab flavoured Markdown).

Summary line, a severity table, the findings at or above --fail-on first with their recommendation,
everything else in collapsible <details>. GitHub rejects comments over 65,536 characters, so the
comment is kept under LIMIT by listing fewer findings in full and summarising the rest.
"""

from __future__ import annotations

from auditor.findings.finding import SEVERITIES, at_or_above
from auditor.report.model import Report
from auditor.report.text import markdown_code, markdown_escape

LIMIT = 60_000  # below GitHub's 65,536-character comment limit, with room for a CI wrapper's header
ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def esc(value) -> str:
    """Inline text from inventories: capped, no HTML, table breaks, mentions, headings or other markup."""
    return markdown_escape(value)


def token_label(subject: dict) -> str:
    name = subject.get("name") or subject.get("id") or subject.get("key") or "?"
    masked = subject.get("fingerprint") or subject.get("masked")
    return f"{esc(name)}" + (f" ({esc(masked)})" if masked else "")


def where(finding: dict) -> str:
    source = finding.get("source") or {}
    if not source.get("file"):
        return ""
    line = f":{source['line']}" if source.get("line") else ""
    return f"{esc(source['file'])}{line} {esc(source.get('pointer', ''))}".strip()


def state(finding: dict) -> str:
    if finding.get("waived"):
        waiver = finding.get("waiver") or {}
        return f"waived until {esc(waiver.get('expires'))}"
    if finding.get("baseline"):
        return "baseline"
    if (finding.get("waiver") or {}).get("expired"):
        return f"**waiver expired {esc(finding['waiver'].get('expires'))}**"
    return "new" if finding.get("baseline") is False else ""


def replacement_lines(replacement: dict | None) -> list[str]:
    if not replacement:
        return []
    lines = []
    if replacement.get("needs_owner_input"):
        lines.append(f"ask the owner: {esc(replacement.get('question', ''))}")
    for scoped in replacement.get("scoped") or []:
        entity = scoped.get("entity") or {}
        lines.append(
            f"{esc(entity.get('type'))} {esc(entity.get('name'))}: {esc(', '.join(scoped.get('permissions', [])))}"
        )
    if replacement.get("repositories"):
        lines.append(f"repositories: {esc(', '.join(map(str, replacement['repositories'])))}")
    permissions = replacement.get("permissions")
    if isinstance(permissions, dict) and permissions:
        lines.append("permissions: " + esc(", ".join(f"{k}:{v}" for k, v in sorted(permissions.items()))))
    if replacement.get("scopes"):
        lines.append(f"scopes: {esc(', '.join(replacement['scopes']))}")
    return lines


def finding_block(finding: dict) -> str:
    subject = finding.get("subject") or {}
    recommendation = finding.get("recommendation") or {}
    head = (
        f"#### {ICON.get(finding['severity'], '')} {markdown_code(finding['rule_id'])} · {token_label(subject)}"
        f" · {esc(subject.get('provider'))} · owner {esc(subject.get('owner'))}"
    )
    lines = [head, "", esc(finding.get("message", ""))]
    if where(finding):
        lines += ["", f"<sub>{where(finding)} · fingerprint `{finding.get('fingerprint', '')}`</sub>"]
    if recommendation.get("summary"):
        lines += ["", f"**Do ({esc(recommendation.get('action'))}):** {esc(recommendation['summary'])}"]
    if finding.get("plan_id"):  # the token's one plan holds the steps and the replacement
        lines += [f"Plan: `{finding['plan_id']}` (under What to do first, or `token-auditor plan`)"]
    else:
        lines += [f"1. {esc(step)}" for step in recommendation.get("steps") or []]
        replacement = replacement_lines(recommendation.get("replacement"))
        if replacement:
            lines += ["", "Replacement:"] + [f"- {line}" for line in replacement]
    waiver = finding.get("waiver")
    if waiver:
        lines += [
            "",
            f"> Waiver ({'expired' if waiver.get('expired') else 'active'}): {esc(waiver.get('reason'))}"
            f" — approved by {esc(waiver.get('approved_by'))}"
            + (f", {esc(waiver.get('ticket'))}" if waiver.get("ticket") else "")
            + f", until {esc(waiver.get('expires'))}",
        ]
    return "\n".join(lines) + "\n"


def finding_row(finding: dict) -> str:
    subject = finding.get("subject") or {}
    return (
        f"| {ICON.get(finding['severity'], '')} {finding['severity']} | {markdown_code(finding['rule_id'])} | "
        f"{token_label(subject)} | {esc(subject.get('owner'))} | {esc(finding.get('message', ''))} | "
        f"{state(finding)} |"
    )


FINDING_TABLE = ["| severity | rule | token | owner | finding | state |", "|---|---|---|---|---|---|"]


def details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def fit(items: list[str], budget: int, more: str) -> tuple[list[str], int]:
    """As many items as fit into budget characters, then one line saying how many were left out."""
    out, used = [], 0
    for index, item in enumerate(items):
        if used + len(item) + 1 > budget:
            out.append(more.format(n=len(items) - index))
            return out, used
        out.append(item)
        used += len(item) + 1
    return out, used


def waiver_rows(entries: list[dict]) -> list[str]:
    rows = ["| rule | match | reason | approved by | ticket | expires | matched |", "|---|---|---|---|---|---|---|"]
    for w in entries:
        match = ", ".join(f"{k}={v}" for k, v in sorted(w["match"].items()))
        rows.append(
            f"| `{w['rule_id']}` | {esc(match)} | {esc(w['reason'])} | {esc(w['approved_by'])} | "
            f"{esc(w.get('ticket') or '')} | {w['expires']} | {w['matched']} |"
        )
    return rows


def clip(text: str, limit: int, where: str) -> str:
    """Last resort when the budgets' estimates were short: cut at a line, keep <details> balanced."""
    if len(text) <= limit:
        return text
    text = text[: limit - 200].rsplit("\n", 1)[0]
    text += "\n\n" + "</details>\n\n" * max(0, text.count("<details>") - text.count("</details>"))
    return text + f"_… truncated; see the {where}._\n"


class MarkdownFormat:
    def format(self, report: Report, limit: int = LIMIT) -> str:
        data = report.data
        summary = data["summary"]
        gate = data.get("gate") or {}
        fail_on = gate.get("fail_on", "high")
        findings = report.findings
        failing = [f for f in findings if f.get("counts", True) and at_or_above(f["severity"], fail_on)]
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
            + (f" · {gate.get('waived', 0)} waived" if "waivers" in data else "")
            + (f" · {gate.get('baseline', 0)} in baseline" if "baseline" in data else ""),
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
        tail = self._tail(data)
        footer = [
            f"<sub>token-auditor {esc(data['tool']['version'])} · OPA {esc(data['engine']['opa_version'])} · "
            f"catalogue {esc((data.get('policy') or {}).get('catalogue_version'))} · now {esc(data['now'])}</sub>",
            "",
        ]
        budget = limit - len("\n".join(parts + tail + footer)) - 1500  # headings and <details> wrappers
        if failing and data.get("plans"):
            from auditor.report.plans import markdown_first

            first = markdown_first(data, fail_on, int(budget * 0.35))
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

    def _tail(self, data: dict) -> list[str]:
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
        from auditor import evidence

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
        from auditor.frameworks import compliance_markdown

        compliance = compliance_markdown(data)
        if compliance:
            parts += details(
                "Compliance: OWASP NHI 2025 and CIS GitHub, pass / fail / not assessed / manual per requirement",
                compliance.splitlines(),
            )
        skipped = data.get("skipped") or []
        if skipped:
            rows = ["| provider | item | reason |", "|---|---|---|"]
            rows += [
                f"| {esc(s['provider'])} | {esc(s.get('name') or s['id'])} | {esc(s['reason'])} |" for s in skipped
            ]
            rows, _ = fit(rows, 4000, "| … {n} more | | |")
            parts += details(f"Skipped ({len(skipped)})", rows)
        return parts


FORMAT = MarkdownFormat
