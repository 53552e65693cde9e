"""`--format csv`: one finding per row for spreadsheets, columns in a fixed order (RFC 4180, CRLF rows).

A cell that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or a carriage return)
gets a leading apostrophe, as OWASP's CSV-injection guidance recommends: token names, owners and messages
come from the audited inventories, which an attacker may write.
"""

from __future__ import annotations

import csv
import io

from auditor.report.model import Finding, Report
from auditor.report.table import state_of
from auditor.report.text import terminal_safe

COLUMNS = (
    "state",
    "severity",
    "rule_id",
    "provider",
    "token_name",
    "token_id",
    "owner",
    "message",
    "action",
    "recommendation",
    "file",
    "pointer",
    "line",
    "waiver_expires",
    "fingerprint",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The cell as text, defused when a spreadsheet would evaluate it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # A spreadsheet cell is also read in terminals (cat, less): no escape sequence; tabs and newlines are harmless.
    text = "\t".join(terminal_safe(part, keep_newlines=True) for part in str(value).split("\t"))
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def row_of(finding: Finding) -> list[str]:
    subject = finding["subject"]
    recommendation = finding["recommendation"]
    source = finding.get("source") or {}
    waiver = finding.get("waiver")
    values = {
        "state": state_of(finding),
        "severity": finding["severity"],
        "rule_id": finding["rule_id"],
        "provider": subject.get("provider") or finding.get("provider"),
        "token_name": subject.get("name"),
        "token_id": subject.get("id"),
        "owner": subject.get("owner"),
        "message": finding["message"],
        "action": recommendation["action"],
        "recommendation": recommendation.get("summary"),
        "file": source.get("file"),
        "pointer": source.get("pointer"),
        "line": source.get("line"),
        "waiver_expires": waiver["expires"] if waiver else None,
        "fingerprint": finding["fingerprint"],
    }
    return [safe_cell(values[column]) for column in COLUMNS]


class CsvFormat:
    name = "csv"
    extension = "csv"

    def render(self, report: Report) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for finding in report.findings:
            writer.writerow(row_of(finding))
        return out.getvalue()
