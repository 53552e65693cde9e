"""The report every format renders: one JSON-shaped document (schema `report.v1`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditor.findings.finding import SEVERITIES

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Report:
    """A finished audit: read-only view over the JSON document (`data`)."""

    data: dict

    @property
    def findings(self) -> list[dict]:
        return self.data["findings"]

    @property
    def summary(self) -> dict:
        return self.data["summary"]

    @property
    def skipped(self) -> list[dict]:
        return self.data["skipped"]


def build_summary(
    tokens_total: int, audited: int, skipped: list[dict], findings: list[dict], providers: Counter
) -> dict:
    by_severity = Counter(f["severity"] for f in findings)
    by_rule = Counter(f["rule_id"] for f in findings)
    flagged = {f["subject"].get("key") for f in findings if f["subject"].get("type") == "token"}
    return {
        "tokens": tokens_total,
        "audited": audited,
        "skipped": len(skipped),
        "tokens_with_findings": len(flagged),
        "tokens_by_provider": dict(sorted(providers.items())),
        "findings": len(findings),
        "by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES},
        "by_rule": dict(sorted(by_rule.items())),
    }
