"""`--format table`: findings grouped by severity, most severe first, with what to do."""

from __future__ import annotations

from itertools import groupby

from tabulate import tabulate

from auditor.report.model import Report
from auditor.report.text import cap_cell, terminal_safe

MAX_CELL_LINES = 12


def _cell(text: str) -> str:
    """A multi-line cell: each line capped and free of control characters, at most MAX_CELL_LINES lines."""
    lines = str(text).split("\n")
    shown = [cap_cell(line) for line in lines[:MAX_CELL_LINES]]
    if len(lines) > MAX_CELL_LINES:
        shown.append(f"… {len(lines) - MAX_CELL_LINES} more lines (see the JSON report)")
    return "\n".join(shown)


def _token(subject: dict) -> str:
    name = subject.get("name") or subject.get("id") or ""
    fingerprint = subject.get("fingerprint")
    name = cap_cell(name)
    return f"{name}\n{cap_cell(fingerprint)}" if fingerprint else name


def _todo(finding: dict) -> str:
    recommendation = finding.get("recommendation") or {}
    text = f"{recommendation.get('action', '')}: {recommendation.get('summary', '')}".strip(": ")
    replacement = recommendation.get("replacement") or {}
    if replacement.get("needs_owner_input"):
        text += f"\nask owner: {replacement.get('question', '')}"
    for scoped in replacement.get("scoped") or []:
        entity = scoped.get("entity", {})
        text += f"\n+ {entity.get('type')} {entity.get('name')}: {', '.join(scoped.get('permissions', []))}"
    if replacement.get("repositories"):
        text += f"\n+ repos: {', '.join(replacement['repositories'])}"
    permissions = replacement.get("permissions")
    if isinstance(permissions, dict) and permissions:
        for group, value in sorted(permissions.items()):
            if isinstance(value, dict):
                text += f"\n+ {group}: " + ", ".join(f"{k}:{v}" for k, v in sorted(value.items()))
            else:
                text += f"\n+ {group}:{value}"
    if replacement.get("scopes"):
        text += f"\n+ scopes: {', '.join(replacement['scopes'])}"
    return text


class TableFormat:
    def format(self, report: Report) -> str:
        data = report.data
        summary = data["summary"]
        skipped_tokens = summary["tokens"] - summary["audited"]
        others = summary["skipped"] - skipped_tokens  # skipped items that are not tokens (SSH keys)
        counted = f"{summary['audited']} audited, {skipped_tokens} skipped"
        if others > 0:
            counted += f"; {others} other item{'s' if others != 1 else ''} skipped, not a token"
        lines = [
            terminal_safe(f"token-auditor {data['tool']['version']} · OPA {data['engine']['opa_version']} · "
                          f"now {data['now']}"),
            f"{summary['tokens']} tokens ({counted}) · "
            f"{summary['findings']} findings on {summary['tokens_with_findings']} tokens · "
            + ", ".join(f"{count} {sev}" for sev, count in summary["by_severity"].items() if count),
            "",
        ]
        for severity, group in groupby(data["findings"], key=lambda f: f["severity"]):
            group = list(group)
            lines.append(f"{severity.upper()} ({len(group)})")
            rows = [
                [cap_cell(f["rule_id"]), cap_cell(f["subject"].get("provider") or ""), _cell(_token(f["subject"])),
                 cap_cell(f["subject"].get("owner") or ""), cap_cell(f["message"], 400), _cell(_todo(f))]
                for f in group
            ]
            lines.append(tabulate(rows, headers=["rule", "provider", "token", "owner", "finding", "do"],
                                  tablefmt="simple_grid", maxcolwidths=[22, 11, 26, 14, 48, 60]))
            lines.append("")
        if not data["findings"]:
            lines.append("No findings.")
            lines.append("")
        if data["skipped"]:
            lines.append(f"SKIPPED ({len(data['skipped'])})")
            rows = [[cap_cell(s["provider"]), cap_cell(s.get("name") or s["id"]), cap_cell(s["reason"], 400),
                     cap_cell(f"{s['source']['file']}#{s['source']['pointer']}", 400)] for s in data["skipped"]]
            lines.append(tabulate(rows, headers=["provider", "item", "reason", "where"], tablefmt="simple",
                                  maxcolwidths=[12, 30, 50, 50]))
            lines.append("")
        return "\n".join(lines)
