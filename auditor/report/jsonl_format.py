"""`--format jsonl`: one JSON object per line (schema: `token-auditor schema report-line`).

`{"type": "finding", …}` per finding (the report's finding, without `plan_id`: plans are in `--format json`),
`{"type": "skipped", …}` per input entry not audited, then one `{"type": "summary", …}` line with the report's
top-level facts (summary counts, gate, inputs, policy, evidence). With token-inventory/v1 inputs the audit streams
(auditor/stream.py): each chunk's findings are written as soon as OPA returns them, sorted within the chunk, and
the summary comes last; otherwise the lines are rendered from the finished report, sorted as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from auditor.report.model import Report

# The report's top-level facts a summary line carries (findings and skipped entries are lines of their own;
# token facts, rules and plans stay in --format json).
SUMMARY_FIELDS = (
    "schema_version",
    "tool",
    "engine",
    "policy",
    "now",
    "config",
    "inputs",
    "summary",
    "secrets_redacted",
    "evidence",
    "not_assessed",
    "gate",
)


def compact_json(value: Any) -> bytes:
    """One line of JSON, no spaces: orjson, or the stdlib for a value orjson refuses (an int beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def line_bytes(value: Mapping[str, Any]) -> bytes:
    return compact_json(value) + b"\n"


def finding_line(finding: Mapping[str, Any]) -> bytes:
    return line_bytes({"type": "finding", **{k: v for k, v in finding.items() if k != "plan_id"}})


def skipped_line(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "skipped", **entry}


def summary_line(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "summary", **{k: data[k] for k in SUMMARY_FIELDS if k in data}}


class JsonlFormat:
    name = "jsonl"
    extension = "jsonl"

    def render(self, report: Report) -> str:
        data = report.data
        out = [finding_line(f) for f in report.findings]
        out += [line_bytes(skipped_line(s)) for s in report.skipped]
        out.append(line_bytes(summary_line(data)))
        return b"".join(out).decode()
