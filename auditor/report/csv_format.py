"""`--format csv`: one finding per row for spreadsheets, columns in a fixed order (RFC 4180, CRLF rows).

A cell that a spreadsheet would read as a formula (it starts with =, +, -, @, a tab or a carriage return)
gets a leading apostrophe, as OWASP's CSV-injection guidance recommends: token names, owners and messages
come from the audited inventories, which an attacker may write.
"""

from __future__ import annotations

import csv
import io

from auditor.report.model import Report
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


def row_of(finding: dict) -> list[str]:
    subject = finding.get("subject") or {}
    recommendation = finding.get("recommendation") or {}
    source = finding.get("source") or {}
    waiver = finding.get("waiver") or {}
    values = {
        "state": state_of(finding),
        "severity": finding.get("severity"),
        "rule_id": finding.get("rule_id"),
        "provider": subject.get("provider") or finding.get("provider"),
        "token_name": subject.get("name"),
        "token_id": subject.get("id"),
        "owner": subject.get("owner"),
        "message": finding.get("message"),
        "action": recommendation.get("action"),
        "recommendation": recommendation.get("summary"),
        "file": source.get("file") if isinstance(source, dict) else None,
        "pointer": source.get("pointer") if isinstance(source, dict) else None,
        "line": source.get("line") if isinstance(source, dict) else None,
        "waiver_expires": waiver.get("expires"),
        "fingerprint": finding.get("fingerprint"),
    }
    return [safe_cell(values[column]) for column in COLUMNS]


class CsvFormat:
    def format(self, report: Report) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for finding in report.findings:
            writer.writerow(row_of(finding))
        return out.getvalue()


FORMAT = CsvFormat
