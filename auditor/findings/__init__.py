"""Stage 5: findings from OPA, given identity (fingerprints), order and the rule catalogue."""

from auditor.findings.finding import (
    SEVERITIES,
    expand_finding,
    expand_findings,
    fingerprint,
    prepare_findings,
    severity_rank,
)
from auditor.findings.rules import Rule, load_rules

__all__ = [
    "SEVERITIES",
    "Rule",
    "expand_finding",
    "expand_findings",
    "fingerprint",
    "load_rules",
    "prepare_findings",
    "severity_rank",
]
