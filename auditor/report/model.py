"""The report every format renders: one JSON-shaped document (schema `report.v1`, schema_version 2.x).

The shapes below are TypedDicts: at the JSON and OPA boundary everything stays a plain dict, and mypy checks
the code that reads it. A key marked NotRequired may be absent; the others the schema guarantees.

Life of a report: `build_report` (auditor/audit.py) builds it, `apply_gate` (auditor/gate) completes it once
(each finding's gate state and the `gate` section), and from then on every format only reads it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from auditor.findings.finding import SEVERITIES

if TYPE_CHECKING:
    from auditor.frameworks import Framework

# 2.0: a subject's masked token value is `masked` (was `fingerprint`, which also names a finding's hash) and each
# finding says whether it fails the gate (`fails_gate`). Saved 1.x reports are upgraded when read.
SCHEMA_VERSION = "2.0"


class Source(TypedDict, total=False):
    """Where something was read: input file, JSON pointer inside it, 1-based line when known."""

    file: str
    pointer: str
    line: int


class Subject(TypedDict):
    """What a finding is about: a token, an organization, a storage location or a token value found in a file."""

    type: str  # token, org, location or secret
    key: str  # unique per subject, e.g. provider:kind:id
    id: NotRequired[str | None]
    provider: NotRequired[str | None]
    kind: NotRequired[str | None]
    name: NotRequired[str | None]
    owner: NotRequired[str | None]
    masked: NotRequired[str | None]  # the token as shown, e.g. hf_…c90d; never the value
    token: NotRequired[str | None]  # secrets: the key of the inventory token with that value
    source: NotRequired[Source | None]


class Replacement(TypedDict, total=False):
    """The narrower credential a finding proposes (provider-shaped; every key optional)."""

    needs_owner_input: bool
    question: str
    scoped: list[dict[str, Any]]  # [{entity: {type, name}, permissions: [...]}] (Hugging Face)
    repositories: list[str]
    permissions: dict[str, Any] | list[str]
    scopes: list[str]
    derived_from: Any


class Recommendation(TypedDict):
    """What to do about a finding."""

    action: str  # replace, narrow, revoke, rotate, purge, set-policy, deny or review
    summary: NotRequired[str]
    steps: NotRequired[list[str]]
    replacement: NotRequired[Replacement | None]


class WaiverStamp(TypedDict):
    """The waiver a finding matched (active, or expired and so no longer waiving)."""

    reason: str
    approved_by: str
    ticket: NotRequired[str | None]
    expires: str  # YYYY-MM-DD, the last day it applies
    expired: NotRequired[bool]  # present (true) only once it has expired


class Finding(TypedDict):
    """One rule firing on one subject. `fingerprint` is the finding's stable identity (a hash)."""

    rule_id: str
    severity: str  # critical, high, medium, low or info
    title: str
    subject: Subject
    message: str
    evidence: dict[str, Any]
    nhi: list[str]  # OWASP NHI Top 10 ids
    recommendation: Recommendation
    fingerprint: str  # 32 hex digits: rule + subject (+ instance, + access for NHI5)
    provider: NotRequired[str | None]
    instance: NotRequired[str]
    source: NotRequired[Source | None]
    plan_id: NotRequired[str | None]
    # Set once by the gate (apply_gate); formats only read them.
    counts: NotRequired[bool]  # neither waived nor in the baseline
    fails_gate: NotRequired[bool]  # counts and is at or above --fail-on: this finding fails the run
    baseline: NotRequired[bool]  # with --baseline: known before
    waived: NotRequired[bool]  # with --waivers: an active waiver covers it
    waiver: NotRequired[WaiverStamp]


class Gate(TypedDict):
    """The gate's outcome: which findings count toward the exit code."""

    fail_on: str
    findings: int
    counted: int
    waived: int
    baseline: int
    failing: int
    passed: bool


class Summary(TypedDict):
    tokens: int  # audited + skipped tokens
    audited: int
    skipped: int  # skipped items, tokens or not
    tokens_with_findings: int
    tokens_by_provider: dict[str, int]
    findings: int
    by_severity: dict[str, int]
    by_rule: dict[str, int]


class SkippedItem(TypedDict):
    provider: str
    id: str
    name: NotRequired[str | None]
    reason: str
    source: Source


class PlanToken(TypedDict):
    key: str
    provider: str
    id: NotRequired[str | None]
    name: NotRequired[str | None]
    owner: NotRequired[str | None]
    masked: NotRequired[str | None]
    revoke_id: NotRequired[int | str]


class PlanStep(TypedDict):
    order: int
    kind: str
    text: str
    credential: NotRequired[str | None]


class Plan(TypedDict):
    """One token's remediation: the credentials to create and the ordered steps (docs/plans.md)."""

    id: str  # plan-<12 hex>
    token: PlanToken
    action: str
    summary: str
    severity: str
    rules: list[str]
    findings: list[str]  # fingerprints of the findings it fixes
    credentials: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    questions: list[str]
    steps: list[PlanStep]
    requests: list[dict[str, Any]]
    problems: list[str]


class ReportData(TypedDict):
    """The JSON report document (`token-auditor schema report`)."""

    schema_version: str
    tool: dict[str, Any]
    engine: dict[str, Any]
    policy: dict[str, Any]
    now: str
    config: dict[str, Any]
    inputs: list[dict[str, Any]]
    summary: Summary
    findings: list[Finding]
    skipped: list[SkippedItem]
    secrets_redacted: int
    rules: NotRequired[list[dict[str, Any]]]
    tokens: NotRequired[list[dict[str, Any]]]
    evidence: NotRequired[list[dict[str, Any]]]
    not_assessed: NotRequired[list[dict[str, Any]]]
    plans: NotRequired[list[Plan]]
    gate: NotRequired[Gate]
    baseline: NotRequired[dict[str, Any]]
    waivers: NotRequired[dict[str, Any]]


@dataclass(frozen=True)
class Report:
    """A finished audit: the JSON document (`data`) and what formats show beside it, none of it read from disk
    by a format.

    frameworks: the compliance mappings of the run's policy directory, loaded by whoever builds or loads the
    report. compliance: each of them assessed against `data` (auditor/frameworks.py assess_all), computed
    by build_report and again by the gate, which changes what is waived. Neither is part of the JSON document.
    The gate completes `data` in place, once (apply_gate); formats never change it.
    """

    data: ReportData
    frameworks: tuple[Framework, ...] = ()
    compliance: list[dict[str, Any]] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return self.data["findings"]

    @property
    def summary(self) -> Summary:
        return self.data["summary"]

    @property
    def skipped(self) -> list[SkippedItem]:
        return self.data["skipped"]


def subject_identity(subject: Subject) -> dict[str, Any]:
    """Who a token subject is, shaped like the report's token facts (key, id, provider, kind, name, owner, masked)."""
    return {name: subject.get(name) for name in ("key", "id", "provider", "kind", "name", "owner", "masked")}


def build_summary(
    tokens_total: int, audited: int, skipped: list[Any], findings: list[Any], providers: Counter[str]
) -> Summary:
    by_severity = Counter(f["severity"] for f in findings)
    by_rule = Counter(f["rule_id"] for f in findings)
    flagged = {f["subject"]["key"] for f in findings if f["subject"]["type"] == "token"}
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
