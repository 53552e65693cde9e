"""Sentences several formats print alike: a subject's label, a waiver, a proposed replacement.

Each returns plain text; the format escapes it for its medium (Markdown, XML, a terminal cell) through `text`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from auditor.report.model import Replacement, WaiverStamp


def _plain(value: object) -> str:
    return "" if value is None else str(value)


def subject_name(subject: Mapping[str, Any]) -> str:
    """What a subject is called: its name, else its id, else its key."""
    return _plain(subject.get("name") or subject.get("id") or subject.get("key"))


def subject_label(subject: Mapping[str, Any], text: Callable[[object], str] = _plain) -> str:
    """`name (masked token)`, or the name alone when no masked token is known."""
    name = text(subject_name(subject) or "?")
    masked = subject.get("masked")
    return f"{name} ({text(masked)})" if masked else name


def waiver_sentence(waiver: WaiverStamp | Mapping[str, Any], text: Callable[[object], str] = _plain) -> str:
    """`reason (approved by X, TICKET, until YYYY-MM-DD)`."""
    ticket = f", {text(waiver['ticket'])}" if waiver.get("ticket") else ""
    return (
        f"{text(waiver['reason'])} (approved by {text(waiver['approved_by'])}{ticket}, until {text(waiver['expires'])})"
    )


def replacement_lines(replacement: Replacement | Mapping[str, Any] | None) -> list[str]:
    """The narrower credential a finding proposes, one line per part: the owner's question, scoped grants,
    repositories, permissions (one line per group for GitHub's nested form) and scopes."""
    if not replacement:
        return []
    lines = []
    if replacement.get("needs_owner_input"):
        lines.append(f"ask the owner: {_plain(replacement.get('question'))}")
    for scoped in replacement.get("scoped") or []:
        entity = scoped.get("entity") or {}
        lines.append(f"{entity.get('type')} {entity.get('name')}: {', '.join(scoped.get('permissions') or [])}")
    if replacement.get("repositories"):
        lines.append(f"repositories: {', '.join(map(str, replacement['repositories']))}")
    permissions = replacement.get("permissions")
    if isinstance(permissions, dict) and permissions:
        flat = {k: v for k, v in permissions.items() if not isinstance(v, dict)}
        if flat:
            lines.append("permissions: " + ", ".join(f"{k}:{v}" for k, v in sorted(flat.items())))
        for group, levels in sorted(permissions.items()):
            if isinstance(levels, dict):
                lines.append(f"{group}: " + ", ".join(f"{k}:{v}" for k, v in sorted(levels.items())))
    if replacement.get("scopes"):
        lines.append(f"scopes: {', '.join(replacement['scopes'])}")
    return lines


__all__ = ["replacement_lines", "subject_label", "subject_name", "waiver_sentence"]
