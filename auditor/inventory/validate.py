"""Validate documents against the JSON Schemas shipped in auditor/schemas (jsonschema, draft 2020-12)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from auditor.errors import InputError, ValidationFailed
from auditor.inventory.loader import Document
from auditor.secrets import redact_text

MAX_ERRORS_SHOWN = 50


def schema_names() -> list[str]:
    files = resources.files("auditor.schemas").iterdir()
    return sorted(f.name.removesuffix(".json") for f in files if f.name.endswith(".json"))


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """A shipped schema by name: `huggingface-inventory.v1`, `report.v1`, or a short alias."""
    names = schema_names()
    candidates = [name, f"{name}.v1", name.replace("/", ".")]
    for candidate in candidates:
        if candidate in names:
            return json.loads(resources.files("auditor.schemas").joinpath(f"{candidate}.json").read_text())
    raise InputError(f"unknown schema {name!r}; known: {', '.join(names)}")


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def pointer_of(path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def schema_errors(document: Document, schema: str, data=None, base: str = "") -> list[str]:
    """Every schema error as `file:line: /pointer: message`, sorted by place."""
    instance = document.data if data is None else data
    errors = []
    for error in validator(schema).iter_errors(instance):
        if error.validator in ("anyOf", "oneOf") and error.context:
            error = best_match(error.context)
        pointer = base + pointer_of(error.absolute_path)
        errors.append((pointer, f"{document.where(pointer)}: {redact_text(_short(error.message))}"))
    errors.sort(key=lambda e: e[0])
    return [message for _, message in errors]


def _short(message: str, limit: int = 200) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


def require_valid(document: Document, schema: str) -> None:
    errors = schema_errors(document, schema)
    if errors:
        if len(errors) > MAX_ERRORS_SHOWN:
            more = len(errors) - MAX_ERRORS_SHOWN
            errors = errors[:MAX_ERRORS_SHOWN] + [f"{document.path}: … and {more} more schema errors"]
        raise ValidationFailed(errors)
