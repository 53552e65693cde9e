"""What every provider adapter builds the same way: org entries, storage and usage facts, the collection
time, and the items of paged API answers with their JSON pointers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from auditor import json_pointer
from auditor.errors import InputError
from auditor.inventory.loader import Document
from auditor.model.timestamps import normalize_time


def source(document: Document, pointer: str) -> dict:
    """Where a normalized entry was read: the report's and SARIF's `source`."""
    return {"file": document.path, "pointer": pointer}


def top_object(document: Document) -> dict:
    """The document as the object its schema requires (a wrapper): a list or scalar here is an input error."""
    if not isinstance(document.data, dict):
        raise InputError(f"{document.path}: expected an object at the top level, found {type(document.data).__name__}")
    return document.data


def org_defaults() -> dict:
    """The fields every org entry has, before any export says otherwise (fresh objects on every call)."""
    return {"token_policy": None, "members": None, "settings": {}}


def org_entry(provider: str, name: str | None, document: Document, pointer: str = "") -> dict:
    """An org (GitHub org, GitLab instance or group, Hugging Face org) as the policies see it, nothing known yet."""
    return {"provider": provider, "name": name, **org_defaults(), "source": source(document, pointer)}


def _given_public(place: dict) -> bool | None:
    return place.get("public")


def stored_in(places: Iterable[dict] | None, public: Callable[[dict], bool | None] = _given_public) -> list[dict]:
    """Collector facts: where a token is kept (`public` says whether that place is public, when known)."""
    return [
        {"kind": p["kind"], "location": p["location"], "key": p.get("key"), "public": public(p)} for p in places or []
    ]


def observed_usage(uses: Iterable[dict] | None, field: str = "resource") -> list[dict]:
    """Collector facts: what a token was seen doing, `{resource: {type, name}, actions}` (`field` names the
    resource in the export: Hugging Face calls it `entity`)."""
    return [
        {
            "resource": {"type": use[field]["type"], "name": use[field]["name"]},
            "actions": sorted(set(use.get("actions") or [])),
        }
        for use in uses or []
    ]


def time_at(document: Document, pointer: str, value) -> str | None:
    """A date-time field as canonical RFC 3339 UTC, or a one-line input error naming its place."""
    try:
        return normalize_time(value)
    except ValueError:
        raise InputError(f"{document.where(pointer)}: {str(value)!r} is not an ISO 8601 date-time") from None


def collected_at(document: Document, options: dict) -> str | None:
    """When the export was taken: a wrapper's own `collected_at`, else `--collected-at` (bare API answers)."""
    data = document.data
    if isinstance(data, dict) and data.get("collected_at"):
        return time_at(document, "/collected_at", data["collected_at"])
    option = options.get("collected_at") or None
    try:
        return normalize_time(option)
    except ValueError:
        raise InputError(f"--collected-at {option!r} is not an ISO 8601 date-time") from None


def paged_items(value: Any, base: str = "", inner: str | None = None) -> list[tuple[Any, str]]:
    """The items of an API answer, each with its JSON pointer under `base`, in order.

    `--slurp` pages (arrays of arrays) are flattened; with `inner`, an object page holding its list under
    that key (GitHub's `{total_count, installations}`) is unwrapped. Anything else holds no items.
    """

    def wrapped(page: Any) -> bool:
        return inner is not None and isinstance(page, dict) and isinstance(page.get(inner), list)

    if inner is not None and wrapped(value):
        return [(item, json_pointer.join(base, inner, index)) for index, item in enumerate(value[inner])]
    if not isinstance(value, list):
        return []
    out: list[tuple[Any, str]] = []
    for index, item in enumerate(value):
        where = json_pointer.join(base, index)
        if isinstance(item, list) or wrapped(item):
            out.extend(paged_items(item, where, inner))
        else:
            out.append((item, where))
    return out
