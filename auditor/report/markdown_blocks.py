"""Markdown building blocks that the audit comment (markdown.py) and the diff comment (auditor/gate/diff_format.py)
share: escaping, one finding as a block or a table row, collapsible sections, and fitting under GitHub's limit."""

from __future__ import annotations

from auditor.report.model import Finding
from auditor.report.text import markdown_code, markdown_escape
from auditor.report.wording import replacement_lines, subject_label, waiver_sentence

LIMIT = 60_000  # below GitHub's 65,536-character comment limit, with room for a CI wrapper's header
ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def esc(value) -> str:
    """Inline text from inventories: capped, no HTML, table breaks, mentions, headings or other markup."""
    return markdown_escape(value)


def where(finding: Finding) -> str:
    source = finding.get("source") or {}
    if not source.get("file"):
        return ""
    line = f":{source['line']}" if source.get("line") else ""
    return f"{esc(source['file'])}{line} {esc(source.get('pointer', ''))}".strip()


def state(finding: Finding) -> str:
    waiver = finding.get("waiver")
    if finding.get("waived") and waiver:
        return f"waived until {esc(waiver['expires'])}"
    if finding.get("baseline"):
        return "baseline"
    if waiver and waiver.get("expired"):
        return f"**waiver expired {esc(waiver['expires'])}**"
    return "new" if finding.get("baseline") is False else ""


def finding_block(finding: Finding) -> str:
    subject = finding["subject"]
    recommendation = finding["recommendation"]
    head = (
        f"#### {ICON.get(finding['severity'], '')} {markdown_code(finding['rule_id'])} · {subject_label(subject, esc)}"
        f" · {esc(subject.get('provider'))} · owner {esc(subject.get('owner'))}"
    )
    lines = [head, "", esc(finding["message"])]
    if where(finding):
        lines += ["", f"<sub>{where(finding)} · fingerprint `{finding['fingerprint']}`</sub>"]
    if recommendation.get("summary"):
        lines += ["", f"**Do ({esc(recommendation['action'])}):** {esc(recommendation['summary'])}"]
    if finding.get("plan_id"):  # the token's one plan holds the steps and the replacement
        lines += [f"Plan: `{finding['plan_id']}` (under What to do first, or `token-auditor plan`)"]
    else:
        lines += [f"1. {esc(step)}" for step in recommendation.get("steps") or []]
        replacement = replacement_lines(recommendation.get("replacement"))
        if replacement:
            lines += ["", "Replacement:"] + [f"- {esc(line)}" for line in replacement]
    waiver = finding.get("waiver")
    if waiver:
        lines += ["", f"> Waiver ({'expired' if waiver.get('expired') else 'active'}): {waiver_sentence(waiver, esc)}"]
    return "\n".join(lines) + "\n"


def finding_row(finding: Finding) -> str:
    subject = finding["subject"]
    return (
        f"| {ICON.get(finding['severity'], '')} {finding['severity']} | {markdown_code(finding['rule_id'])} | "
        f"{subject_label(subject, esc)} | {esc(subject.get('owner'))} | {esc(finding['message'])} | "
        f"{state(finding)} |"
    )


FINDING_TABLE = ["| severity | rule | token | owner | finding | state |", "|---|---|---|---|---|---|"]


def details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def fit(items: list[str], budget: int, more: str) -> tuple[list[str], int]:
    """As many items as fit into budget characters, then one line saying how many were left out."""
    out: list[str] = []
    used = 0
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
