"""Read inventories safely: bounded size, safe YAML with bounded aliases, duplicate keys refused.

Every document keeps its path, sha256 and a JSON-pointer → line map (YAML only) so later errors
can name the place in the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from auditor import json_pointer
from auditor.errors import InputError
from auditor.inventory.jsonl import has_lone_surrogate, is_jsonl, read_whole
from auditor.redaction import SecretHit, redact_document, redact_text

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
MAX_YAML_NODES = 5_000_000  # alias expansion beyond this is a "billion laughs" document
YAML_ALIAS_ALLOWANCE = 64 * 1024 * 1024  # characters aliases may add beyond the file's own text
# The limit guards memory where a whole file is held (YAML, JSON of other formats, any non-jsonl report).
LIMIT_HINT = (
    " for a file read whole (--max-input-bytes; `--format jsonl` and `--format json` stream token-inventory/v1"
    " .json and .jsonl files and huggingface-inventory/v1 .json files without this limit)"
)
SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")


@dataclass
class Document:
    """One parsed input file, already redacted of token values."""

    path: str
    sha256: str
    data: object
    lines: dict[str, int] = field(default_factory=dict)
    secrets: list[SecretHit] = field(default_factory=list)
    pages: int = 1  # >1 when the file held several JSON values back to back (`gh api --paginate`)
    json_text: str | None = field(default=None, repr=False)  # small JSON files: lines mapped on first use

    def where(self, pointer: str) -> str:
        """`file:line: /pointer` for messages, with the nearest known line."""
        line = self.line_of(pointer)
        return f"{self.path}:{line}: {pointer or '/'}" if line else f"{self.path}: {pointer or '/'}"

    def line_of(self, pointer: str) -> int | None:
        if self.json_text is not None:
            self.lines, self.json_text = json_line_map(self.json_text), None
        probe = pointer
        while True:
            if probe in self.lines:
                return self.lines[probe]
            if not probe:
                return None
            probe = json_pointer.parent(probe)


def expand_paths(paths: list[str]) -> list[str]:
    """Files as given, directories as every JSON/YAML file below them (sorted), `-` for stdin."""
    out: list[str] = []
    for raw in paths:
        if raw == "-":
            out.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                raise InputError(f"{raw}: directory holds no *.json, *.jsonl, *.yaml or *.yml file")
            out.extend(found)
        elif path.is_file():
            out.append(str(path))
        else:
            raise InputError(f"{raw}: no such file or directory")
    return list(dict.fromkeys(out))  # each file once, in the order first named


def _read_bytes(path: str, max_bytes: int) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        try:
            size = Path(path).stat().st_size
            if size > max_bytes:
                raise InputError(f"{path}: file is {size} bytes, above the {max_bytes}-byte limit{LIMIT_HINT}")
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise InputError(f"{path}: input is above the {max_bytes}-byte limit{LIMIT_HINT}")
    return data


def _no_duplicates(path: str):
    def hook(pairs):
        obj = dict(pairs)  # in C; the loop below runs only when a key repeats
        if len(obj) != len(pairs):
            seen: set = set()
            for key, _ in pairs:
                if key in seen:
                    raise InputError(f"{path}: duplicate key {json.dumps(redact_text(key))} in a JSON object")
                seen.add(key)
        return obj

    return hook


JSON_LINE_MAP_MAX_CHARS = 2 * 1024 * 1024  # line numbers for JSON files up to this size (~0.5 s/MB)
_JSON_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:\n]')


def json_line_map(text: str) -> dict[str, int]:
    """JSON pointer → line of every object and array member, for messages and SARIF regions.

    Top-level arrays back to back (`gh api --paginate` pages) continue one list, as the loader joins them.
    """
    lines: dict[str, int] = {}
    stack: list[list] = []  # [kind, pointer, index or pending key]
    line = 1
    expect_key = False
    top_index = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group(0)
        if token == "\n":
            line += 1
            continue
        if token in "{[":
            if stack:
                kind, pointer, slot = stack[-1]
                child = f"{pointer}/{slot}"
                lines.setdefault(child, line)
            else:
                child = ""
                lines.setdefault("", line)
            if token == "[" and not stack:
                stack.append(["a", "", top_index])
            else:
                stack.append(["o" if token == "{" else "a", child, 0 if token == "[" else None])
            expect_key = token == "{"
            continue
        if token in "}]":
            closed = stack.pop()
            if not stack and closed[0] == "a":
                top_index = closed[2] + (1 if _had_value(text, match.start()) else 0)
            continue
        if not stack:
            continue
        frame = stack[-1]
        if token == ",":
            if frame[0] == "a":
                frame[2] += 1
            else:
                expect_key = True
            continue
        if token == ":":
            continue
        if frame[0] == "o" and expect_key:  # a string token in key position
            key = json_pointer.escape(json.loads(token))
            frame[2] = key
            lines.setdefault(f"{frame[1]}/{key}", line)
            expect_key = False
        elif frame[0] == "a":
            lines.setdefault(f"{frame[1]}/{frame[2]}", line)
    return lines


def _had_value(text: str, end: int) -> bool:
    """Whether the array closing at `end` held anything (`[]` adds no index)."""
    probe = end - 1
    while probe >= 0 and text[probe] in " \t\r\n":
        probe -= 1
    return probe >= 0 and text[probe] != "["


def _refuse_constant(name: str):
    raise _NumberRefused(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NumberRefused(text)
    return value


class _NumberRefused(ValueError):
    """NaN, Infinity, or a number too large for a float: JSON has no such values, OPA refuses them."""


_JSON_NUMBERS = re.compile(r'"(?:[^"\\]|\\.)*"|(-?(?:NaN|Infinity))|(-?\d[\d.eE+\-]*)')
MAX_INT_DIGITS = 4300  # Python's int/str conversion limit (sys.get_int_max_str_digits)


def _number_error(name: str, text: str) -> InputError:
    """The first number JSON or OPA cannot hold, as `file:line: message` (found again only on this error path)."""
    for match in _JSON_NUMBERS.finditer(text):
        constant, number = match.group(1), match.group(2)
        if constant:
            problem = f"{constant} is not a JSON number"
        elif number:
            digits = len(number.lstrip("-").split(".")[0].split("e")[0].split("E")[0])
            if digits > MAX_INT_DIGITS and not any(c in number for c in ".eE"):
                problem = f"an integer with more than {MAX_INT_DIGITS} digits"
            else:
                try:
                    if not math.isinf(float(number)):
                        continue
                except ValueError:
                    continue
                problem = "a number too large for a double (it would become Infinity)"
        else:
            continue
        line = text.count("\n", 0, match.start()) + 1
        return InputError(f"{name}:{line}: {problem}")
    return InputError(f"{name}: a number JSON cannot hold")


def strict_json_loads(name: str, text: str, **hooks):
    """json.loads that refuses NaN, Infinity, numbers beyond a double and integers beyond 4300 digits, and
    deep nesting, with a one-line InputError; a syntax error stays a json.JSONDecodeError for the caller."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, **hooks)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None
    except ValueError:
        raise _number_error(name, text) from None


def _parse_json(path: str, text: str) -> tuple[object, int]:
    decoder = json.JSONDecoder(
        object_pairs_hook=_no_duplicates(path), parse_constant=_refuse_constant, parse_float=_finite_float
    )
    values = []
    index, end = 0, len(text)
    try:
        while True:
            while index < end and text[index] in " \t\r\n":
                index += 1
            if index >= end:
                break
            value, index = decoder.raw_decode(text, index)
            values.append(value)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except ValueError:  # integer digit limit, NaN, Infinity
        raise _number_error(path, text) from None
    if not values:
        raise InputError(f"{path}: empty input")
    if len(values) == 1:
        return values[0], 1
    # `gh api --paginate` without --slurp writes one array per page back to back.
    if all(isinstance(v, list) for v in values):
        return [item for page in values for item in page], len(values)
    raise InputError(f"{path}: several JSON values back to back, but not all are arrays (pages)")


def parse_json_text(name: str, text: str) -> object:
    """JSON text as the loader reads it (pages joined), or its one-line InputError naming line and column."""
    return _parse_json(name, text)[0]


class _Builder:
    """Builds plain Python data from a composed YAML node graph, recording lines per pointer."""

    _SCALARS = {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:timestamp",
        "tag:yaml.org,2002:binary",
    }

    _COLLECTIONS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

    def __init__(self, path: str, text_length: int = 0):
        self.path = path
        self.constructor = yaml.SafeLoader("")
        self.lines: dict[str, int] = {}
        self.count = 0
        # Scalars reached through aliases count each time: a few KB of anchors can name gigabytes.
        self.max_chars = text_length + YAML_ALIAS_ALLOWANCE
        self.chars = 0

    def refuse_bombs(self, root) -> None:
        """Refuse a document whose aliases expand beyond the limits before building any of it: an alias reuses its
        anchor's node, so each distinct node's expanded size is computed once (milliseconds, where building up to
        the node limit takes seconds). Merge keys are counted as written; build() still counts as it goes."""
        sizes: dict[int, tuple[int, int] | None] = {}

        def size(node) -> tuple[int, int]:
            known = sizes.get(id(node), ())
            if known is None:
                raise InputError(f"{self.path}:{node.start_mark.line + 1}: a YAML alias refers to itself")
            if known:
                return known
            sizes[id(node)] = None
            nodes, chars = 1, 0
            if isinstance(node, yaml.ScalarNode):
                chars = len(node.value)
            else:
                children = (
                    node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
                )
                for child in children:
                    child_nodes, child_chars = size(child)
                    nodes, chars = nodes + child_nodes, chars + child_chars
            sizes[id(node)] = (nodes, chars)
            return nodes, chars

        nodes, chars = size(root)
        if nodes > MAX_YAML_NODES:
            raise InputError(f"{self.path}: YAML expands to more than {MAX_YAML_NODES} nodes (alias bomb?)")
        if chars > self.max_chars:
            raise InputError(f"{self.path}: YAML aliases expand to more than {self.max_chars} characters (alias bomb?)")

    def build(self, node, pointer: str = ""):
        self.count += 1
        if self.count > MAX_YAML_NODES:
            raise InputError(f"{self.path}: YAML expands to more than {MAX_YAML_NODES} nodes (alias bomb?)")
        if isinstance(node, yaml.ScalarNode):
            self.chars += len(node.value)
            if self.chars > self.max_chars:
                raise InputError(
                    f"{self.path}: YAML aliases expand to more than {self.max_chars} characters (alias bomb?)"
                )
        self.lines.setdefault(pointer, node.start_mark.line + 1)
        where = f"{self.path}:{node.start_mark.line + 1}"
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in self._COLLECTIONS:
            raise InputError(f"{where}: YAML tag {node.tag!r} is not allowed (only plain data)")
        if isinstance(node, yaml.MappingNode):
            try:
                self.constructor.flatten_mapping(node)
            except yaml.YAMLError as exc:
                raise InputError(f"{where}: {redact_text(str(exc).splitlines()[0])}") from None
            out: dict = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, pointer + "/?")
                if isinstance(key, (list, dict)):
                    raise InputError(f"{where}: a mapping key must be a scalar")
                key = (
                    "null"
                    if key is None
                    else key
                    if isinstance(key, str)
                    else str(key).lower()
                    if isinstance(key, bool)
                    else str(key)
                )
                if key in out:
                    raise InputError(
                        f"{self.path}:{key_node.start_mark.line + 1}: duplicate key {json.dumps(redact_text(key))}"
                    )
                out[key] = self.build(value_node, json_pointer.join(pointer, key))
            self.lines.pop(pointer + "/?", None)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, f"{pointer}/{i}") for i, item in enumerate(node.value)]
        if node.tag not in self._SCALARS:
            raise InputError(f"{where}: YAML tag {node.tag!r} is not allowed (only plain data)")
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # keep timestamps as the ISO text written
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise InputError(f"{where}: {redact_text(str(exc).splitlines()[0])}") from None
        except ValueError:  # int(): Python's digit limit
            raise InputError(f"{where}: an integer with more than {MAX_INT_DIGITS} digits") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{where}: NaN and infinite numbers are not allowed (JSON and OPA cannot hold them)")
        return value


class _ExplicitTag(Exception):
    def __init__(self, tag: str, line: int):
        super().__init__(tag)
        self.tag, self.line = tag, line


_PLAIN_TAGS = (None, "!", "tag:yaml.org,2002:str")
_SHOWN_TAG = re.compile(r"^tag:yaml\.org,2002:([a-z]{1,12})$")


class _TagRefusingLoader(yaml.SafeLoader):
    """A SafeLoader that refuses explicit tags on scalars: `!!int ghp_…` would convert (and mangle) a value
    before redaction sees it. `!!str` and `!` keep a string and stay allowed."""

    def compose_scalar_node(self, anchor):
        event = self.peek_event()
        if event.tag not in _PLAIN_TAGS:
            raise _ExplicitTag(event.tag, event.start_mark.line + 1)
        return super().compose_scalar_node(anchor)


def _shown_tag(tag: str) -> str:
    """The tag for a message: `!!int` for a standard one; a custom tag could hold anything, so is not shown."""
    match = _SHOWN_TAG.match(tag or "")
    return f"`!!{match.group(1)}`" if match else "(custom tag)"


def _parse_yaml(path: str, text: str) -> tuple[object, dict[str, int]]:
    try:
        nodes = list(yaml.compose_all(text, Loader=_TagRefusingLoader))
    except _ExplicitTag as exc:
        raise InputError(
            f"{path}:{exc.line}: explicit YAML tag {_shown_tag(exc.tag)} is not allowed; remove it "
            "(quote the value to keep it a string)"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark else ""
        raise InputError(f"{path}{line}: invalid YAML: {redact_text(exc.problem or str(exc))}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {redact_text(str(exc).splitlines()[0])}") from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise InputError(f"{path}: empty input")
    if len(nodes) > 1:
        raise InputError(f"{path}: several YAML documents in one file; give one inventory per file")
    builder = _Builder(path, len(text))
    builder.refuse_bombs(nodes[0])
    return builder.build(nodes[0]), builder.lines


def load_document(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    raw = _read_bytes(path, max_bytes)
    name, name_hits = ("<stdin>", []) if path == "-" else redacted_name(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    stripped = text.lstrip()
    looks_jsonl = is_jsonl(name)
    looks_json = looks_jsonl or name.lower().endswith(".json") or (name == "<stdin>" and stripped[:1] in "[{")
    lines: dict[str, int] = {}
    pages = 1
    try:
        if looks_jsonl:  # the JSON Lines form of token-inventory/v1: lines known per token
            whole, lines = read_whole(raw, name)
            data: object = whole
        elif looks_json:
            data, pages = _parse_json(name, text)
        else:
            data, lines = _parse_yaml(name, text)
        data, hits = redact_document(data, name, raw_text=text)
        hits = name_hits + hits
    except RecursionError:
        alias_hint = "" if looks_json else " (or a YAML alias that contains itself)"
        raise InputError(f"{name}: nested too deeply{alias_hint}") from None
    if has_lone_surrogate(text, data):
        raise InputError(f"{name}: holds a lone UTF-16 surrogate (\\ud800–\\udfff), which is not text")
    return Document(
        path=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        data=data,
        lines=lines,
        secrets=hits,
        pages=pages,
        # Redaction keeps every newline, so lines still match; no token value stays in memory.
        json_text=(redact_text(text) if hits else text)
        if looks_json and not looks_jsonl and len(text) <= JSON_LINE_MAP_MAX_CHARS
        else None,
    )


def redacted_name(path: str) -> tuple[str, list[SecretHit]]:
    """The path as reports show it: a token in a directory or file name is redacted, and reported."""
    redacted, hits = redact_document(path, "")
    name = str(redacted)  # a str in, a str out
    return name, [replace(hit, file=name) for hit in hits]


def load_paths(paths: list[str], max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    if not paths:
        raise InputError("no input given: pass inventory files, directories or - for stdin")
    return [load_document(p, max_bytes) for p in expand_paths(paths)]
