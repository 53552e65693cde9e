"""JSON inventories read without holding them: a wrapper object whose `tokens` array is read one entry at a time.

Two passes over the file, both with ijson's C backend (yajl2_c):

1. `read_context`: every top-level member but the entries of `tokens` (format, orgs, members, Spaces, …), built
   as a dict with `tokens: []`, wherever they are in the file (before or after the tokens). The tokens' events
   are skipped, not built.
2. `read_tokens`: the entries of `tokens`, one at a time, and the file's sha256.

Both refuse what the whole-file loader refuses (duplicate keys, NaN, Infinity, numbers beyond a double) with
the loader's message. A small file (up to JSON_LINE_MAP_MAX_CHARS) that fails to parse is parsed again by the
loader itself, so its message, with line and column, is the whole-file path's, word for word.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ijson

from auditor.errors import InputError
from auditor.inventory.jsonl import HashingReader
from auditor.inventory.loader import JSON_LINE_MAP_MAX_CHARS, parse_json_text
from auditor.redaction import redact_text

TOKENS_PREFIX = "tokens.item"  # ijson's prefix of the entries of the top-level `tokens` array
_OPEN = frozenset(("start_map", "start_array"))
_CLOSE = frozenset(("end_map", "end_array"))


class StrictDict(dict):
    """ijson's map type: a key written twice in one object is refused, as the JSON loader does."""

    name = "<input>"

    def __setitem__(self, key, value):
        if key in self:
            raise InputError(f"{self.name}: duplicate key {json.dumps(redact_text(key))} in a JSON object")
        super().__setitem__(key, value)


def strict_dict_for(name: str) -> type[dict]:
    return type("StrictDict", (StrictDict,), {"name": name})


def parse_error(path: str, name: str, exc: Exception) -> InputError:
    """An ijson error as the whole-file loader words it: a small file is parsed again by the loader; a large one
    gets the parser's own reason, on one line (yajl's further lines quote the input, which may hold a token)."""
    if isinstance(exc, InputError):
        return exc
    try:
        small = Path(path).stat().st_size <= JSON_LINE_MAP_MAX_CHARS
    except OSError:
        small = False
    if small:
        try:
            parse_json_text(name, Path(path).read_bytes().decode("utf-8-sig"))
        except InputError as exact:
            return exact
        except (UnicodeDecodeError, OSError):
            pass
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "floating point) overflow" in reason:
        return InputError(f"{name}: a number too large for a double (it would become Infinity)")
    if "integer overflow" in reason:
        return InputError(
            f"{name}: an integer beyond 64 bits: the streamed reader (ijson's C parser) cannot hold it; "
            "read the file whole (without --format jsonl alone) or write the number as a string"
        )
    return InputError(f"{name}: invalid JSON: {redact_text(reason)[:200]}")


def read_context(path: str, name: str) -> dict:
    """The top-level object with every member but the entries of `tokens` (given as []): one pass, tokens
    skipped event by event without building them. A `tokens` that is not an array is kept as it is (the schema
    names it)."""
    builder = ijson.ObjectBuilder(map_type=strict_dict_for(name))
    try:
        with open(path, "rb") as handle:
            events = ijson.basic_parse(handle, use_float=True)
            first = next(events, None)
            if first is None:
                raise InputError(f"{name}: empty input")
            if first[0] != "start_map":
                raise InputError(f"{name}: expected an object at the top level")
            builder.event(*first)
            depth = 1
            for event, value in events:
                if depth == 1 and event == "map_key":
                    if value == TOKENS_PREFIX:
                        raise InputError(
                            f'{name}: a top-level key "{TOKENS_PREFIX}" cannot be told apart from the tokens '
                            "when streamed; rename it"
                        )
                    builder.event(event, value)
                    if value == "tokens":
                        event, value = next(events)
                        if event == "start_array":
                            _skip_array(events)
                            builder.event("start_array", None)
                            builder.event("end_array", None)
                            continue
                    else:
                        continue
                builder.event(event, value)
                if event in _OPEN:
                    depth += 1
                elif event in _CLOSE:
                    depth -= 1
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    except (ijson.JSONError, ValueError) as exc:
        raise parse_error(path, name, exc) from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None
    return builder.value


def _skip_array(events) -> None:
    """Consume the events up to the end of the array just started."""
    depth = 1
    for event, _ in events:
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                return


def read_tokens(path: str, name: str, reader_out: list | None = None) -> Iterator[tuple[int, object]]:
    """(index, entry) for every entry of the top-level `tokens` array, in order. `reader_out`, when given, gets the
    HashingReader: its digest is the file's sha256 once the iteration has ended."""
    try:
        with open(path, "rb") as handle:
            reader = HashingReader(handle)
            if reader_out is not None:
                reader_out.append(reader)
            entries = ijson.items(reader, TOKENS_PREFIX, use_float=True, map_type=strict_dict_for(name))
            yield from enumerate(entries)
            while reader.read(1 << 20):  # the rest of the file, for its hash
                pass
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    except (ijson.JSONError, ValueError) as exc:
        raise parse_error(path, name, exc) from None
