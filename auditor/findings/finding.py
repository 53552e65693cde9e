"""Finding identity and order: stable fingerprints, deterministic sorting."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from auditor.findings.rules import Rule

SEVERITIES = ("critical", "high", "medium", "low", "info")
_RANK = {name: index for index, name in enumerate(SEVERITIES)}
FAIL_ON = (*SEVERITIES[:-1], "never")


def severity_rank(severity: str) -> int:
    return _RANK.get(severity, len(SEVERITIES))


def at_or_above(severity: str, threshold: str) -> bool:
    return threshold != "never" and severity_rank(severity) <= severity_rank(threshold)


# Findings about over-privilege (OWASP NHI5) are about what the token can do: their identity includes a hash
# of its permission set, so a token broadened under the same rule is a new finding, not a known one.
PRIVILEGE_NHI = "NHI5"


def expand_finding(compact: dict[str, Any], rule: Rule) -> dict[str, Any]:
    """The finding OPA's compact one stands for (policies/lib/finding: details + rule_id + subject), with what
    every finding of its rule shares joined from the rule's METADATA: title, NHI ids, the default severity where
    the check sets none (or no valid one), the default action under the check's recommendation, and the
    subject's source. Keys in OPA's order (sorted), so that reports stay byte-identical."""
    severity = compact.get("severity")
    recommendation: dict[str, Any] = {"action": rule.recommended_action, "steps": [], "replacement": None}
    extra = compact.get("recommendation")
    if isinstance(extra, dict):
        recommendation.update(extra)
    subject = compact["subject"]
    source = subject.get("source")
    return {
        "evidence": compact.get("evidence", {}),
        "instance": compact.get("instance", ""),
        "message": compact["message"],
        "nhi": list(rule.nhi),
        "recommendation": dict(sorted(recommendation.items())),
        "rule_id": rule.id,
        "severity": severity if severity in SEVERITIES else rule.severity,
        "source": dict(source) if isinstance(source, dict) else source,  # its own: prepare_findings adds a line
        "subject": subject,
        "title": rule.title,
    }


def expand_findings(compact: list[dict[str, Any]], rules: Mapping[str, Rule]) -> list[dict[str, Any]]:
    """expand_finding of each, by rule id (rules: id → Rule). KeyError names a rule id that rules lacks."""
    return [expand_finding(finding, rules[finding["rule_id"]]) for finding in compact]


def access_digest(token: dict) -> str:
    """A hash of everything that decides a token's reach: grants, global permissions, scopes, legacy, org-wide."""
    grants = sorted(
        [
            str((g.get("resource") or {}).get("type")),
            str((g.get("resource") or {}).get("name")),
            sorted(map(str, g.get("permissions") or [])),
            str(g.get("access")),
        ]
        for g in token.get("grants") or []
        if isinstance(g, dict)
    )
    material = [
        grants,
        sorted(map(str, token.get("global_permissions") or [])),
        sorted(map(str, token.get("scopes") or [])),
        bool(token.get("legacy")),
        bool(token.get("org_wide")),
    ]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:16]


def fingerprint(finding: dict, access: str | None = None) -> str:
    """Same subject + same rule (+ same instance) → same fingerprint, whatever the run, clock, file order or path.

    A token value found in a file is identified by provider, masked value and JSON pointer, never by the file's
    path (`./x`, `x` and `$PWD/x` are one file; a moved file holds the same secret). access: the subject's
    access_digest, mixed in for over-privilege findings.
    """
    subject = finding.get("subject") or {}
    if subject.get("type") == "secret":
        pointer = (subject.get("source") or {}).get("pointer", "")
        parts = [
            finding["rule_id"],
            "secret",
            str(subject.get("provider", "")),
            str(subject.get("masked", "")),
            str(pointer),
        ]
    else:
        parts = [finding["rule_id"], str(subject.get("key", "")), str(finding.get("instance", ""))]
    if access and PRIVILEGE_NHI in (finding.get("nhi") or []):
        parts.append(f"access={access}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def subject_index(tokens, orgs=()) -> dict[str, dict]:
    """key → token-shaped subject: audited tokens, and the pending requests and app installations that
    organizations list in their settings."""
    out = {t["key"]: t for t in tokens if isinstance(t, dict) and t.get("key")}
    for org in orgs:
        settings = (org.get("settings") or {}) if isinstance(org, dict) else {}
        for name in ("pending_requests", "installations"):
            items = settings.get(name) if isinstance(settings, dict) else None
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("key"), str):
                    out.setdefault(item["key"], item)
    return out


def sort_key(finding: dict) -> tuple:
    subject = finding.get("subject") or {}
    return (
        severity_rank(finding["severity"]),
        finding["rule_id"],
        str(subject.get("provider") or ""),
        str(subject.get("owner") or ""),
        str(subject.get("key") or ""),
        str(finding.get("instance") or ""),
    )


def prepare_findings(raw: list[dict], line_of=None, subjects: dict[str, dict] | None = None) -> list[dict]:
    """Add fingerprint, provider and source line; sort most severe first, then by rule and subject.

    subjects: key → token-shaped subject (see subject_index), whose permission set enters the fingerprint of
    over-privilege findings."""
    digests: dict[str, str] = {}
    for finding in raw:
        subject = finding.get("subject") or {}
        key = subject.get("key")
        access = None
        if subjects and key in subjects and PRIVILEGE_NHI in (finding.get("nhi") or []):
            access = digests.get(key) or digests.setdefault(key, access_digest(subjects[key]))
        finding["fingerprint"] = fingerprint(finding, access)
        finding.setdefault("provider", subject.get("provider"))
        source = finding.get("source")
        if line_of and isinstance(source, dict) and source.get("file"):
            line = line_of(source["file"], source.get("pointer", ""))
            if line:
                source["line"] = line
        finding.pop("description", None)
    return sorted(raw, key=sort_key)
