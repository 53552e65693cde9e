"""`--format table`: findings grouped by severity, most severe first, with what to do; ends with the gate's verdict.

Two layouts: a grid that fits the width (120 columns and more) and, below 120, one block per finding.
Colour only when the caller says the output is a terminal that wants it (see `use_colour`).
"""

from __future__ import annotations

import os
import textwrap
from itertools import groupby

import click
from tabulate import tabulate

from auditor.findings.finding import SEVERITIES
from auditor.report.model import Finding, Report, ReportData, Subject
from auditor.report.text import cap_cell, terminal_safe
from auditor.report.wording import replacement_lines

MAX_CELL_LINES = 12


def _cell(text: str) -> str:
    """A multi-line cell: each line capped and free of control characters, at most MAX_CELL_LINES lines."""
    lines = str(text).split("\n")
    shown = [cap_cell(line) for line in lines[:MAX_CELL_LINES]]
    if len(lines) > MAX_CELL_LINES:
        shown.append(f"… {len(lines) - MAX_CELL_LINES} more lines (see the JSON report)")
    return "\n".join(shown)


COMPACT_BELOW = 120
SHOW = ("counted", "all")
MAX_ROWS = 20  # rows per severity on stdout (--max-rows); a file written with -o has every row
COLOURS = {
    "critical": ("red", True),
    "high": ("red", False),
    "medium": ("yellow", False),
    "low": ("cyan", False),
    "info": ("white", False),
}


def use_colour(stream) -> bool:
    """Colour when the stream is a terminal and NO_COLOR (https://no-color.org) is unset or empty."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal_width(stream) -> int | None:
    """$COLUMNS when set, else the terminal's width; None (no limit) when output is not a terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty():
        try:
            size = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            return None
        return size or None  # 0: a terminal that reports no size
    return None


def cap_rows(rows: list, limit: int | None) -> tuple[list, int]:
    """The first `limit` rows (None: every row) and how many are left out."""
    if limit is None or len(rows) <= limit:
        return rows, 0
    return rows[:limit], len(rows) - limit


def more_line(hidden: int, what: str) -> str:
    """What the cap left out and where all of it is."""
    return f"… {hidden} more {what}: use -f json -o report.json or --max-rows 0"


def state_of(finding: Finding) -> str:
    """new (counts toward the gate), baseline (known before) or waived (accepted risk)."""
    if finding.get("waived"):
        return "waived"
    if finding.get("baseline"):
        return "baseline"
    return "new"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def verdict_line(data: ReportData) -> str:
    """One line saying what the gate decided and why, e.g.
    `gate: FAIL (fail-on high): 2 new high findings; 56 in baseline, 3 waived, 1 waiver expired`."""
    gate = data.get("gate")
    findings = data["findings"]
    if gate is None:  # a saved report from before the gate existed
        return f"gate: not evaluated; {_plural(len(findings), 'finding')}"
    fail_on = gate["fail_on"]
    counted = [f for f in findings if f.get("counts", True)]
    failing = [f for f in counted if f["fails_gate"]]
    if failing:
        by_severity = [(s, sum(1 for f in failing if f["severity"] == s)) for s in SEVERITIES]
        parts = [f"{n} new {s}" for s, n in by_severity if n]
        head = (
            f"gate: FAIL (fail-on {fail_on}): "
            + " and ".join(parts)
            + (" finding" if len(failing) == 1 else " findings")
        )
    elif fail_on == "never":
        head = f"gate: PASS (fail-on never): {_plural(len(counted), 'new finding')}, none can fail the gate"
    else:
        head = f"gate: PASS (fail-on {fail_on}): no new finding at {fail_on} or above"
    tail = []
    below = len(counted) - len(failing)
    if below and fail_on != "never":
        tail.append(f"{below} new below {fail_on}")
    if "baseline" in data:
        tail.append(f"{gate['baseline']} in baseline")
    if "waivers" in data:
        tail.append(f"{gate['waived']} waived")
        expired = len((data.get("waivers") or {}).get("expired") or [])
        if expired:
            tail.append(f"{expired} waiver{'' if expired == 1 else 's'} expired")
    skipped_rules = data["policy"].get("skipped_rules") or []
    if skipped_rules:
        tail.append(f"{_plural(len(skipped_rules), 'rule')} skipped by configuration")
    return head + ("; " + ", ".join(tail) if tail else "")


def _token(subject: Subject) -> str:
    name = cap_cell(subject.get("name") or subject.get("id") or "")
    masked = subject.get("masked")
    return f"{name}\n{cap_cell(masked)}" if masked else name


def _todo(finding: Finding) -> str:
    recommendation = finding["recommendation"]
    text = f"{recommendation['action']}: {recommendation.get('summary', '')}".strip(": ")
    return "\n".join([text] + [f"+ {line}" for line in replacement_lines(recommendation.get("replacement"))])


def _wrap(text: str, width: int | None, indent: str = "") -> list[str]:
    """Each line of text wrapped to width (None: as is), continuation lines indented like the first."""
    out = []
    for line in str(text).splitlines() or [""]:
        if width is None:
            out.append(indent + line)
        else:
            out.extend(
                textwrap.wrap(
                    line, width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
                )
                or [indent]
            )
    return out


class TableFormat:
    def __init__(
        self, show: str = "counted", width: int | None = None, colour: bool = False, max_rows: int | None = None
    ):
        self.show = show
        self.width = width
        self.colour = colour
        self.max_rows = max_rows  # rows per severity (findings, plans) and of skipped items; None: all

    def _severity(self, text: str, severity: str) -> str:
        if not self.colour:
            return text
        colour, bold = COLOURS.get(severity, ("white", False))
        return click.style(text, fg=colour, bold=bold or None)

    name = "table"
    extension = "txt"

    def render(self, report: Report) -> str:
        data = report.data
        compact = self.width is not None and self.width < COMPACT_BELOW
        lines = self._header(data)
        shown = [f for f in data["findings"] if self.show == "all" or state_of(f) == "new"]
        for severity, grouped in groupby(shown, key=lambda f: f["severity"]):
            group = list(grouped)
            lines.append(self._severity(f"{severity.upper()} ({len(group)})", severity))
            group, hidden_rows = cap_rows(group, self.max_rows)
            lines.extend(self._blocks(group) if compact else self._grid(group))
            if hidden_rows:
                lines += _wrap(
                    more_line(hidden_rows, f"{severity} finding{'' if hidden_rows == 1 else 's'}"), self.width
                )
            lines.append("")
        if not data["findings"]:
            lines += ["No findings.", ""]
        hidden = len(data["findings"]) - len(shown)
        if hidden:
            states = [state_of(f) for f in data["findings"]]
            counts = ", ".join(f"{states.count(s)} {s}" for s in ("baseline", "waived") if states.count(s))
            lines += [f"{_plural(hidden, 'finding')} not shown ({counts}); --show all lists them", ""]
        lines.extend(self._plans(data, compact))
        lines.extend(self._skipped(data, compact))
        lines.extend(self._skipped_rules(data))
        lines.extend(not_assessed_lines(data, self.width))
        lines.append(self._verdict(data))
        return "\n".join(lines) + "\n"

    def _header(self, data: ReportData) -> list[str]:
        summary = data["summary"]
        skipped_tokens = summary["tokens"] - summary["audited"]
        others = summary["skipped"] - skipped_tokens  # skipped items that are not tokens (SSH keys)
        counted = f"{summary['audited']} audited, {skipped_tokens} skipped"
        if others > 0:
            counted += f"; {others} other item{'s' if others != 1 else ''} skipped, not a token"
        lines = [
            terminal_safe(
                f"token-auditor {data['tool']['version']} · OPA {data['engine']['opa_version']} · now {data['now']}"
            ),
            f"{summary['tokens']} tokens ({counted}) · "
            f"{summary['findings']} findings on {summary['tokens_with_findings']} tokens · "
            + ", ".join(f"{count} {sev}" for sev, count in summary["by_severity"].items() if count),
        ]
        return [wrapped for line in lines for wrapped in _wrap(line, self.width)] + [""]

    def _grid(self, group: list[Finding]) -> list[str]:
        has_state = any("counts" in f for f in group)
        rows = []
        for f in group:
            subject = f["subject"]
            rule = cap_cell(f["rule_id"]) + (f"\n[{state_of(f)}]" if has_state else "")
            token = "\n".join(
                x
                for x in (
                    cap_cell(subject.get("provider") or ""),
                    _token(subject),
                    f"owner: {cap_cell(subject['owner'])}" if subject.get("owner") else "",
                )
                if x
            )
            rows.append([rule, token, cap_cell(f["message"], 400), _cell(_todo(f))])
        widths = self._grid_widths()
        return [tabulate(rows, headers=["rule", "token", "finding", "do"], tablefmt="simple_grid", maxcolwidths=widths)]

    def _grid_widths(self) -> list[int]:
        """rule, token, finding, do: at most 24/34/48/60; narrower to fit the width (13 columns of borders)."""
        if self.width is None or self.width >= 24 + 34 + 48 + 60 + 13:
            return [24, 34, 48, 60]
        rule, token = 22, 26
        rest = max(40, self.width - 13 - rule - token)
        finding = rest * 45 // 100
        return [rule, token, finding, rest - finding]

    def _blocks(self, group: list[Finding]) -> list[str]:
        width = self.width
        lines = []
        for f in group:
            subject = f["subject"]
            who = subject.get("name") or subject.get("id") or ""
            title = f"[{state_of(f)}] {cap_cell(f['rule_id'])} · {cap_cell(subject.get('provider'))} · {cap_cell(who)}"
            if subject.get("masked"):
                title += f" ({cap_cell(subject['masked'])})"
            if subject.get("owner"):
                title += f" · owner {cap_cell(subject['owner'])}"
            lines += _wrap(title, width, "")
            lines += _wrap(cap_cell(f["message"], 400), width, "    ")
            todo = _cell(_todo(f)).splitlines() or [""]
            lines += _wrap("do: " + todo[0], width, "    ")
            for extra in todo[1:]:
                lines += _wrap(extra, width, "      ")
        return lines

    def _plans(self, data: ReportData, compact: bool) -> list[str]:
        """One plan per token: the replacements and ordered steps that fix all of its findings."""
        from auditor.report.plans import table_rows

        if not data.get("plans"):
            return []
        every = table_rows(data)
        lines = [f"PLANS ({len(every)}): one per token, fixing all of its findings"]
        rows, more = [], []
        for severity, group in groupby(every, key=lambda row: row[0]):
            shown, hidden = cap_rows(list(group), self.max_rows)
            rows += [[_cell(cell) for cell in row] for row in shown]
            if hidden:
                more.append(more_line(hidden, f"plan{'' if hidden == 1 else 's'} of {severity} tokens"))
        if compact:
            for severity, token, plan, steps in rows:
                lines += _wrap(f"{severity} · " + " · ".join(token.splitlines()), self.width)
                for text, indent in ((plan, "    "), (steps, "      ")):
                    for line in text.splitlines():
                        lines += _wrap(line, self.width, indent)
        else:
            # tabulate widens a column to its header + 2 ("severity": 10); 13 more columns of borders and padding
            widths = [9, 30, 50, 80] if self.width is None or self.width >= 185 else [9, 24, 34, self.width - 83]
            lines.append(
                tabulate(
                    rows, headers=["severity", "token", "plan", "steps"], tablefmt="simple_grid", maxcolwidths=widths
                )
            )
        for line in more:
            lines += _wrap(line, self.width)
        return lines + [""]

    def _skipped(self, data: ReportData, compact: bool) -> list[str]:
        if not data["skipped"]:
            return []
        lines = [f"SKIPPED ({len(data['skipped'])})"]
        skipped, hidden = cap_rows(data["skipped"], self.max_rows)
        if compact:
            for s in skipped:
                lines += _wrap(f"{cap_cell(s['provider'])} · {cap_cell(s.get('name') or s['id'])}", self.width)
                lines += _wrap(
                    cap_cell(f"{s['reason']} ({s['source']['file']}#{s['source']['pointer']})", 400), self.width, "    "
                )
        else:
            rows = [
                [
                    cap_cell(s["provider"]),
                    cap_cell(s.get("name") or s["id"]),
                    cap_cell(s["reason"], 400),
                    cap_cell(f"{s['source']['file']}#{s['source']['pointer']}", 400),
                ]
                for s in skipped
            ]
            lines.append(
                tabulate(
                    rows,
                    headers=["provider", "item", "reason", "where"],
                    tablefmt="simple",
                    maxcolwidths=[12, 24, 36, 40] if self.width else [12, 30, 50, 50],
                )
            )
        if hidden:
            lines += _wrap(more_line(hidden, f"skipped item{'' if hidden == 1 else 's'}"), self.width)
        return lines + [""]

    def _skipped_rules(self, data: ReportData) -> list[str]:
        skipped = data["policy"].get("skipped_rules") or []
        if not skipped:
            return []
        lines = [f"RULES SKIPPED BY CONFIGURATION ({len(skipped)})"]
        for rule in skipped:
            lines += _wrap(cap_cell(f"{rule['id']}: {rule['reason']}", 400), self.width, "  ")
        return lines + [""]

    def _verdict(self, data: ReportData) -> str:
        line = verdict_line(data)
        if self.colour and data.get("gate"):
            passed = line.startswith("gate: PASS")
            return click.style(line, fg="green" if passed else "red", bold=True)
        return line


def not_assessed_lines(data: ReportData, width: int | None = None) -> list[str]:
    """Rules that could not run for an organization (evidence missing), with the step that would assess them."""
    from auditor import evidence

    rows = evidence.report_rows(data)
    if not rows:
        return []
    lines = _wrap(f"NOT ASSESSED ({len(rows)}): {evidence.headline(data)}", width)
    if width is not None:  # a terminal: wrapped lines always fit it
        for r in rows:
            lines += _wrap(f"{r['rule_id']} · {r['provider']} {r['org']}: missing {r['missing']}", width)
            lines += _wrap(f"to assess it: {r['how']}", width, "    ")
        return lines + [""]
    table = [[r["rule_id"], r["provider"], r["org"], r["missing"], r["how"]] for r in rows]
    return lines + [
        tabulate(
            table,
            headers=["rule", "provider", "organization", "missing", "to assess it"],
            tablefmt="simple",
            maxcolwidths=[26, 11, 24, 34, 70],
        ),
        "",
    ]
