"""Stage 2: provider adapters turn validated documents into the normalized token model.

Each adapter recognises its documents, names the schema they must pass, and normalizes them.
Provider quirks (field names, role spellings, where the org comes from) live here, not in rules.
"""

from __future__ import annotations

from typing import Protocol

from auditor.errors import InputError
from auditor.inventory.loader import Document
from auditor.model.inventory import Inventory
from auditor.model.timestamps import normalize_time


class Adapter(Protocol):
    provider: str
    formats: tuple[str, ...]

    def recognises(self, document: Document) -> bool: ...

    def schema_for(self, document: Document) -> str: ...

    def normalize(self, document: Document, options: dict) -> Inventory: ...


def adapters() -> list[Adapter]:
    from auditor.providers import huggingface, neutral

    found: list[Adapter] = [huggingface.ADAPTER, neutral.ADAPTER]
    try:  # GitHub and GitLab adapters register themselves when present
        from auditor.providers import github, gitlab

        found += [github.ADAPTER, gitlab.ADAPTER]
    except ImportError:
        pass
    return found


def known_formats() -> list[str]:
    return sorted(f for a in adapters() for f in a.formats)


def adapter_for(document: Document) -> Adapter:
    declared = document.data.get("format") if isinstance(document.data, dict) else None
    for adapter in adapters():
        if declared is not None and declared in adapter.formats:
            return adapter
    if declared is not None:
        raise InputError(
            f"{document.where('/format')}: unknown format {declared!r}; known: {', '.join(known_formats())}"
        )
    for adapter in adapters():
        if adapter.recognises(document):
            return adapter
    raise InputError(
        f"{document.path}: cannot tell what this file is: no `format` field "
        f"({', '.join(known_formats())}) and not a recognised API export"
    )


def time_at(document: Document, pointer: str, value) -> str | None:
    """A date-time field as canonical RFC 3339 UTC, or a one-line input error naming its place."""
    try:
        return normalize_time(value)
    except ValueError:
        raise InputError(f"{document.where(pointer)}: {str(value)!r} is not an ISO 8601 date-time") from None


def link_secrets(document: Document, inventory: Inventory) -> None:
    """Attach every secret found in the file, with the token whose entry holds it (if any)."""
    by_pointer = {t["source"]["pointer"]: t for t in inventory.tokens if t["source"]["file"] == document.path}
    for hit in document.secrets:
        entry = hit.as_input()
        owner, probe = None, hit.pointer
        while owner is None and probe:  # the nearest enclosing token entry, if any
            owner = by_pointer.get(probe)
            probe = probe.rsplit("/", 1)[0]
        entry["token"] = owner["key"] if owner else None
        inventory.secrets.append(entry)
