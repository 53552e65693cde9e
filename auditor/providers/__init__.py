"""Stage 2: provider adapters turn validated documents into the normalized token model.

Each adapter recognises its documents, names the schema they must pass, and normalizes them.
Provider quirks (field names, role spellings, where the org comes from) live here, not in rules.
"""

from __future__ import annotations

import json
from typing import Protocol

from auditor import json_pointer
from auditor.errors import InputError
from auditor.inventory.loader import Document
from auditor.model.inventory import Inventory
from auditor.providers import github, gitlab, huggingface, neutral


class Adapter(Protocol):
    provider: str
    formats: tuple[str, ...]

    def recognises(self, document: Document) -> bool: ...

    def schema_for(self, document: Document) -> str: ...

    def normalize(self, document: Document, options: dict) -> Inventory: ...


def adapters() -> list[Adapter]:
    return [huggingface.ADAPTER, neutral.ADAPTER, github.ADAPTER, gitlab.ADAPTER]


def known_formats() -> list[str]:
    return sorted(f for a in adapters() for f in a.formats)


# Fields of the error answers of GitHub ({message, documentation_url, status, errors}), GitLab
# ({message} or OAuth's {error, error_description, scope}) and the Hugging Face Hub ({error}).
_ERROR_FIELDS = {"message", "documentation_url", "status", "errors", "error", "error_description", "scope"}


def api_error(value) -> str | None:
    """`a GitHub API error answer (403 "…")` when value is a provider's error answer, not data; else None."""
    if isinstance(value, list) and len(value) == 1:  # `--slurp` of one failed page
        value = value[0]
    if not isinstance(value, dict) or not value or not set(value) <= _ERROR_FIELDS:
        return None
    message = value.get("message") if "message" in value else value.get("error")
    if isinstance(message, dict):  # GitLab validation errors: {"message": {"field": ["…"]}}
        message = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in message.items())
    if not isinstance(message, str) or not message:
        return None
    if value.get("error_description"):
        message = f"{message}: {value['error_description']}"
    if "documentation_url" in value or "status" in value:
        who = "GitHub API error"
    elif "message" in value or "error_description" in value:
        who = "GitLab API error"
    else:
        who = "API error"
    status = value.get("status")
    detail = json.dumps(" ".join(message.split())[:300])
    if status:
        detail = f"{status} {detail}"
    if isinstance(value.get("documentation_url"), str):
        detail += f"; see {value['documentation_url']}"
    return f"a {who} answer ({detail})"


def _refuse_error_answers(document: Document) -> None:
    """A saved error answer (a 403 of `gh api`, `glab api`, curl) is not an empty export: say so, with its message."""
    data = document.data
    found = api_error(data)
    if found:
        raise InputError(f"{document.path}: {found}, not an export; fix the access and export again")
    if isinstance(data, dict) and isinstance(data.get("format"), str):
        for key, value in data.items():
            found = api_error(value) if isinstance(value, (dict, list)) else None
            if found:
                place = document.where(json_pointer.join("", key))
                raise InputError(f"{place}: {found} instead of the export; fix the access and export again")


def adapter_for(document: Document) -> Adapter:
    _refuse_error_answers(document)
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


def link_secrets(document: Document, inventory: Inventory) -> None:
    """Attach every secret found in the file, with the token whose entry holds it (if any)."""
    by_pointer = {t["source"]["pointer"]: t for t in inventory.tokens if t["source"]["file"] == document.path}
    for hit in document.secrets:
        entry = hit.as_input()
        owner, probe = None, hit.pointer
        while owner is None and probe:  # the nearest enclosing token entry, if any
            owner = by_pointer.get(probe)
            probe = json_pointer.parent(probe)
        entry["token"] = owner["key"] if owner else None
        inventory.secrets.append(entry)
