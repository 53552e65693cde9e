"""Finding identity and order: stable fingerprints, deterministic sorting."""

from __future__ import annotations

import hashlib

SEVERITIES = ("critical", "high", "medium", "low", "info")
_RANK = {name: index for index, name in enumerate(SEVERITIES)}
FAIL_ON = (*SEVERITIES[:-1], "never")


def severity_rank(severity: str) -> int:
    return _RANK.get(severity, len(SEVERITIES))


def at_or_above(severity: str, threshold: str) -> bool:
    return threshold != "never" and severity_rank(severity) <= severity_rank(threshold)


def fingerprint(finding: dict) -> str:
    """Same token + same rule (+ same instance) → same fingerprint, whatever the run, clock or file order."""
    subject = finding.get("subject") or {}
    material = "|".join([finding["rule_id"], str(subject.get("key", "")), str(finding.get("instance", ""))])
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _sort_key(finding: dict) -> tuple:
    subject = finding.get("subject") or {}
    return (
        severity_rank(finding["severity"]),
        finding["rule_id"],
        str(subject.get("provider") or ""),
        str(subject.get("owner") or ""),
        str(subject.get("key") or ""),
        str(finding.get("instance") or ""),
    )


def prepare_findings(raw: list[dict], line_of=None) -> list[dict]:
    """Add fingerprint, provider and source line; sort most severe first, then by rule and subject."""
    for finding in raw:
        finding["fingerprint"] = fingerprint(finding)
        subject = finding.get("subject") or {}
        finding.setdefault("provider", subject.get("provider"))
        source = finding.get("source")
        if line_of and isinstance(source, dict) and source.get("file"):
            line = line_of(source["file"], source.get("pointer", ""))
            if line:
                source["line"] = line
        finding.pop("description", None)
    return sorted(raw, key=_sort_key)
