"""Inventories read incrementally: the JSON Lines form of `token-inventory/v1`, and big JSON via ijson.

JSON Lines form (`*.jsonl`): line 1 is a header, a JSON object with the document's top-level fields except
`tokens` (`format`, `collected_at`, `orgs`, `locations`); every further non-blank line is one token object, in
order. It is the same document as `{**header, "tokens": [line 2, line 3, …]}`: token N (from 0) has the pointer
`/tokens/N` and its line is where errors and findings point.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.errors import InputError
from auditor.redaction import redact_text

JSONL_SUFFIX = ".jsonl"
STREAM_FORMAT = "token-inventory/v1"
HEADER_FIELDS = ("format", "collected_at", "orgs", "locations")
_SURROGATE_ESCAPE = re.compile(r"\\[uU]0{0,4}[dD][89a-fA-F]")


class _NumberRefused(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NumberRefused(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NumberRefused(text)
    return value


def _no_duplicates(where: str):
    def hook(pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set = set()
            for key, _ in pairs:
                if key in seen:
                    raise InputError(f"{where}: duplicate key {json.dumps(redact_text(key))} in a JSON object")
                seen.add(key)
        return obj

    return hook


def parse_line(name: str, number: int, text: str):
    """One line's JSON value, strict as the JSON loader (no NaN/Infinity, no duplicate keys), errors at name:line."""
    where = f"{name}:{number}"
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates(where),
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{where}: nested too deeply") from None
    except ValueError:  # NaN, Infinity, beyond a double, beyond Python's integer digit limit
        raise InputError(f"{where}: a number JSON cannot hold (NaN, Infinity, or too large)") from None
    if has_lone_surrogate(text, value):
        raise InputError(f"{where}: holds a lone UTF-16 surrogate (\\ud800–\\udfff), which is not text")
    return value


def has_lone_surrogate(text: str, node: object) -> bool:
    """JSON may escape half a surrogate pair (text shows where to look); such a string cannot be written out again."""
    if not _SURROGATE_ESCAPE.search(text):
        return False
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _decoded(name: str, number: int, raw: bytes) -> str:
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}:{number}: not UTF-8 text (byte {exc.start} of the line)") from None


def check_header(name: str, header) -> dict:
    """The header line: an object with only the document's top-level fields (tokens come one per line)."""
    if not isinstance(header, dict):
        raise InputError(f"{name}:1: the first line of a JSON Lines inventory must be an object (its header)")
    if "tokens" in header:
        raise InputError(f"{name}:1: the header line must not hold `tokens`; write one token per line after it")
    return header


@dataclass
class JsonlLine:
    number: int  # line in the file, from 1
    index: int  # token index: the pointer is /tokens/<index>
    text: str
    value: object


def iter_jsonl(stream, name: str, digest=None) -> Iterator[JsonlLine]:
    """Every non-blank line of a binary stream, parsed; the header first with index -1. `digest` (a hashlib
    object) sees every byte read."""
    index = -1
    number = 0
    for number, raw in enumerate(stream, start=1):
        if digest is not None:
            digest.update(raw)
        text = _decoded(name, number, raw)
        if not text.strip():
            continue
        value = parse_line(name, number, text)
        if index == -1:
            value = check_header(name, value)
        yield JsonlLine(number, index, text, value)
        index += 1
    if index == -1:
        raise InputError(f"{name}: empty input")


def read_whole(raw: bytes, name: str) -> tuple[dict, dict[str, int]]:
    """The document a JSON Lines inventory stands for, and the line of every token (for the whole-file path)."""
    lines: dict[str, int] = {}
    header: dict = {}
    tokens: list = []
    for line in iter_jsonl(iter(raw.splitlines(keepends=True)), name):
        if line.index == -1:
            header = line.value  # type: ignore[assignment]
            lines[""] = line.number
            for key in header:
                lines[f"/{key}"] = line.number
        else:
            lines[f"/tokens/{line.index}"] = line.number
            tokens.append(line.value)
    if tokens:
        lines.setdefault("/tokens", lines["/tokens/0"])
    return {**header, "tokens": tokens}, lines


class HashingReader:
    """A binary file that hashes what is read through it (ijson reads by blocks)."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def is_jsonl(path: str) -> bool:
    return path.lower().endswith(JSONL_SUFFIX)
