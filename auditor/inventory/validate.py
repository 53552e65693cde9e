"""Validate documents against the JSON Schemas shipped in auditor/schemas (jsonschema, draft 2020-12)."""

from __future__ import annotations

import json
from functools import cache, partial
from importlib import resources
from importlib.resources.abc import Traversable

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from auditor.errors import InputError
from auditor.inventory.loader import Document
from auditor.json_pointer import pointer_of
from auditor.model.timestamps import parse_time
from auditor.redaction import redact_text

MAX_ERRORS_SHOWN = 50


def _schema_files() -> dict[str, Traversable]:
    """Name → file: auditor/schemas, and policies/schemas (the policy input, which `opa check --schema` reads)."""
    folders = (resources.files("auditor.schemas"), resources.files("auditor").joinpath("policies", "schemas"))
    return {f.name.removesuffix(".json"): f for folder in folders for f in folder.iterdir() if f.name.endswith(".json")}


def schema_names() -> list[str]:
    return sorted(_schema_files())


@cache
def load_schema(name: str) -> dict:
    """A shipped schema by name: `huggingface-inventory.v1`, `report.v1`, or a short alias."""
    files = _schema_files()
    candidates = [name, f"{name}.v1", name.replace("/", ".")]
    for candidate in candidates:
        if candidate in files:
            return json.loads(files[candidate].read_text())
    raise InputError(f"unknown schema {name!r}; known: {', '.join(sorted(files))}")


def _format_checker() -> FormatChecker:
    """jsonschema's checkers, with `date-time` checked by the parser every time goes through: without the
    optional rfc3339 package jsonschema accepts any text there, `0000-00-00T00:00:00Z` included."""
    checker = FormatChecker()
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time", raises=(ValueError, OverflowError))(_is_date_time)
    return checker


def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    parse_time(value)
    return True


FORMAT_CHECKER = _format_checker()


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), format_checker=FORMAT_CHECKER)


# Keywords fastjsonschema (draft-07 code) checks exactly as draft 2020-12 does, once `$ref` siblings are
# moved into an allOf (draft-07 ignores them). A schema using anything else is only checked by jsonschema.
_FAST_KEYWORDS = {
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "$comment",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "format",
    "default",
    "examples",
}
_NAMED_SCHEMAS = ("properties", "$defs")  # their keys are names; their values are schemas
_VALUES = ("enum", "const", "default", "examples", "required", "title", "description", "$comment")


def _fast_form(node):
    """The schema for fastjsonschema, or None when it cannot check it exactly like jsonschema."""
    if isinstance(node, list):
        items = [_fast_form(item) for item in node]
        return None if any(item is None for item in items) else items
    if not isinstance(node, dict):
        return node
    if not set(node) <= _FAST_KEYWORDS:
        return None
    out = {}
    for key, value in node.items():
        if key in _NAMED_SCHEMAS:
            value = {name: _fast_form(sub) for name, sub in value.items()}
            if any(sub is None for sub in value.values()):
                return None
        elif key in ("enum", "const"):
            values = value if key == "enum" else [value]
            if not all(v is None or isinstance(v, str) for v in values):
                return None  # Python's == would let True match 1
        elif key == "items" and isinstance(value, list):
            return None  # draft-07 tuple form; 2020-12 spells it prefixItems
        elif key not in _VALUES:
            value = _fast_form(value)
            if value is None:
                return None
        out[key] = value
    if "$ref" in out and set(out) - {"$ref", "title", "description", "$comment", "$id", "$schema", "$defs"}:
        siblings = {k: v for k, v in out.items() if k not in ("$ref", "$id", "$schema", "$defs")}
        out = {k: v for k, v in out.items() if k not in siblings}
        out["allOf"] = [{"$ref": out.pop("$ref")}, siblings]
    return out


def _formats(node, found: set) -> set:
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            found.add(node["format"])
        for value in node.values():
            _formats(value, found)
    elif isinstance(node, list):
        for value in node:
            _formats(value, found)
    return found


def _conforms(name: str, value) -> bool:
    return FORMAT_CHECKER.conforms(value, name)


@cache
def fast_validator(name: str):
    """A compiled fastjsonschema check (about 20x faster) that accepts exactly what jsonschema accepts.

    Formats are checked by jsonschema's own format checker. None when the schema uses a keyword outside
    the exact subset; then only jsonschema runs.
    """
    schema = _fast_form(load_schema(name))
    if schema is None:
        return None
    schema.pop("$schema", None)
    formats = {f: partial(_conforms, f) for f in _formats(schema, set())}
    try:
        return fastjsonschema.compile(schema, formats=formats, use_default=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None


def is_valid(instance, schema: str) -> bool | None:
    """True when the fast check accepts; None when it cannot tell (ask jsonschema for the errors)."""
    check = fast_validator(schema)
    if check is None:
        return None
    try:
        check(instance)
    except fastjsonschema.JsonSchemaValueException:
        return None
    return True


def schema_errors(document: Document, schema: str, data=None, base: str = "") -> list[str]:
    """Every schema error as `file:line: /pointer: message`, sorted by place."""
    instance = document.data if data is None else data
    if is_valid(instance, schema):
        return []  # the common case; jsonschema below only to name every error
    errors = []
    for error in validator(schema).iter_errors(instance):
        if error.validator in ("anyOf", "oneOf") and error.context:
            error = best_match(error.context)
        pointer = base + pointer_of(error.absolute_path)
        message = error.message
        if error.validator == "maxLength" and len(error.instance) > 100:  # jsonschema's message quotes it whole
            message = f"{len(error.instance)} characters, more than the {error.validator_value} the schema allows"
        errors.append((pointer, f"{document.where(pointer)}: {redact_text(_short(message))}"))
    errors.sort(key=lambda e: e[0])
    return [message for _, message in errors]


def _short(message: str, limit: int = 200) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


def capped(document: Document, errors: list[str]) -> list[str]:
    """At most MAX_ERRORS_SHOWN errors of one file, and how many more there were."""
    if len(errors) <= MAX_ERRORS_SHOWN:
        return errors
    more = len(errors) - MAX_ERRORS_SHOWN
    return errors[:MAX_ERRORS_SHOWN] + [f"{document.path}: … and {more} more schema errors"]
