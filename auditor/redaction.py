"""Detect real token values in inventories and redact them before anything else sees them.

An inventory should hold ids, prefixes and last-four characters, never a secret. When one slips in,
we replace it in memory, keep only a masked form and a one-way digest, and report that it was there.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import unquote

from auditor.json_pointer import pointer_of

# Each pattern matches a whole credential of a known shape. Long, random bodies only: `hf_` alone
# (a prefix field) or `c90d` (a last-four field) must never match. Every shape is distinctive enough to need
# no boundary before it: `export_TOKEN_ghp_…`, `token-glpat-…` and `1hf_…` are still tokens. A pattern
# with an `s` group names the secret inside a context (an AWS secret access key after its key name).
_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("huggingface", "hf_oauth_", r"hf_oauth_[A-Za-z0-9]{30,}"),
    ("huggingface", "hf_jwt_", r"hf_jwt_[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
    ("huggingface", "api_org_", r"api_org_[A-Za-z0-9]{30,}"),
    ("huggingface", "hf_", r"hf_[A-Za-z0-9]{30,}"),
    ("github", "github_pat_", r"github_pat_[A-Za-z0-9_]{60,}"),
    ("github", "gh?_", r"gh[pousr]_[A-Za-z0-9]{36,}"),
    ("gitlab", "glpat-", r"gl(?:pat|dt|rt|ptt|ft|imt|agent|oas|cbt|soat|ffct)-[A-Za-z0-9_\-]{20,}"),
    ("npm", "npm_", r"npm_[A-Za-z0-9]{36,}"),
    ("pypi", "pypi-", r"pypi-AgE[A-Za-z0-9_\-]{50,}"),
    ("aws", "AKIA", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
    (
        "aws",
        "",
        r"(?i:aws_?secret_?access_?key|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
        r"(?P<s{i}>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
    ),
    ("slack", "xoxe.", r"xoxe\.xox[bp]-[A-Za-z0-9\-]{10,}"),
    ("slack", "xox", r"xox[abposre]-[A-Za-z0-9\-]{10,}"),
    ("slack", "xapp-", r"xapp-\d-[A-Za-z0-9\-]{10,}"),
    (
        "slack",
        "https://hooks.slack.com/",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{20,}",
    ),
)
_COMBINED = re.compile(
    "(?:" + "|".join(f"(?P<p{i}>{p[2].replace('{i}', str(i))})" for i, p in enumerate(_PATTERNS)) + r")(?![A-Za-z0-9])"
)
_INNER = {i for i, p in enumerate(_PATTERNS) if "(?P<s{i}>" in p[2]}
# Where a match can start. One alternation makes Python's regex engine try every alternative at every position
# (seconds per 10 MB); each pattern alone starts with a literal the engine scans for at memory speed.
_ALONE = tuple(
    re.compile(p[2].replace("(?P<s{i}>", "(?:") + r"(?![A-Za-z0-9])") for p in _PATTERNS if "(?P<s{i}>" not in p[2]
)
_CONTEXT = re.compile(r"(?i)secret_?access_?key")
_CONTEXT_STARTS = ("secret_access_key", "secretaccesskey", "secret_accesskey", "secretaccess_key")  # lower case
# A key that names an AWS secret access key: its value alone (40 base64 characters) is the secret.
_AWS_SECRET_KEY = re.compile(r"(?i)secret_?access_?key$")
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+]{40}")
REDACTED = "[REDACTED]"

# Encoded forms: `%67hp_…`, `\u0067hp_…`, `&#103;hp_…` are read as what they decode to.
_ENCODED = re.compile(r"[%\\&]")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[\\/\"'])")


def _unescape_one(match: re.Match) -> str:
    code = match.group(1)
    if len(code) == 1:
        return code
    try:
        return chr(int(code[1:], 16))
    except (ValueError, OverflowError):
        return match.group(0)


def decoded(text: str) -> str:
    """Text with percent-encoding, backslash escapes and HTML character references undone, repeatedly (a value
    encoded twice decodes twice). The text itself when it holds nothing encoded."""
    for _ in range(4):
        if not _ENCODED.search(text):
            break
        before = text
        if "%" in text:
            text = unquote(text, errors="replace")
        if "\\" in text:
            text = _ESCAPE.sub(_unescape_one, text)
        if "&" in text:
            text = html.unescape(text)
        if text == before:
            break
    return text


@dataclass(frozen=True)
class SecretHit:
    """A token value found in an input: where, of what shape, and a masked form safe to print."""

    file: str
    pointer: str
    provider: str
    prefix: str
    masked: str
    digest: str  # sha256 prefix of the value: correlates repeats, reveals nothing

    def as_input(self) -> dict:
        return {
            "file": self.file,
            "pointer": self.pointer,
            "provider": self.provider,
            "prefix": self.prefix,
            "masked": self.masked,
            "digest": self.digest,
        }


def _candidates(text: str) -> list[int]:
    found: set[int] = set()
    for pattern in _ALONE:
        found.update(match.start() for match in pattern.finditer(text))
    if "ecret" in text or "ECRET" in text:
        lowered = text.lower()
        if len(lowered) == len(text):
            for start in _CONTEXT_STARTS:
                at = lowered.find(start)
                while at != -1:
                    found.add(at)
                    at = lowered.find(start, at + 1)
        else:  # a character whose lower case is longer shifts positions: ask the regex
            found.update(match.start() for match in _CONTEXT.finditer(text))
    return sorted(found)


_SHORT = 4096  # below this one pass of the alternation costs less than a pass per pattern


def _finditer(text: str):
    """What `_COMBINED.finditer(text)` yields, found fast in long text."""
    if len(text) < _SHORT:
        yield from _COMBINED.finditer(text)
        return
    end = 0
    for at in _candidates(text):
        if at < end:
            continue
        match = _COMBINED.match(text, at)
        if match:
            end = match.end()
            yield match


def _sub(replace, text: str) -> str:
    pieces, last = [], 0
    for match in _finditer(text):
        pieces.append(text[last : match.start()])
        pieces.append(replace(match))
        last = match.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _search(text: str) -> bool:
    if len(text) < _SHORT:
        return _COMBINED.search(text) is not None
    return next(_finditer(text), None) is not None


def _index(match: re.Match) -> int:
    return int(next(name for name, value in match.groupdict().items() if value is not None and name[0] == "p")[1:])


def _describe(match: re.Match) -> tuple[str, str, str, str]:
    index = _index(match)
    provider, label, _ = _PATTERNS[index]
    value = match.group(f"s{index}") if index in _INNER else match.group(0)
    return _describe_value(provider, label, value)


def _describe_value(provider: str, label: str, value: str) -> tuple[str, str, str, str]:
    prefix = value[: len(label)] if not label.endswith("?_") else value[:4]
    masked = f"{prefix}…{value[-4:]}"
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    return provider, prefix, masked, digest


def _replacement(match: re.Match, masked: str) -> str:
    """The match with its secret replaced; a context (a key name) before the secret stays."""
    index = _index(match)
    kept = match.group(0)[: match.start(f"s{index}") - match.start()] if index in _INNER else ""
    return f"{kept}{REDACTED}:{masked}"


def contains_secret(text: str) -> bool:
    if _search(text):
        return True
    plain = decoded(text)
    return plain is not text and _search(plain)


def _redact(text: str, found=None) -> str:
    """Every token value in text replaced by its masked form; when only the decoded text shows one, the
    decoded text is returned, redacted (its encoding is lost, the secret is not kept)."""

    def replace(match: re.Match) -> str:
        described = _describe(match)
        if found is not None:
            found(described)
        return _replacement(match, described[2])

    text = _sub(replace, text)
    plain = decoded(text)
    if plain is not text and _search(plain):
        return _sub(replace, plain)
    return text


def redact_text(text: str) -> str:
    """Redact every token value in free text (error messages, logs, paths, option values)."""
    return _redact(text)


_Doc = TypeVar("_Doc")  # a parsed JSON/YAML document: dict, list, str, number or None


def redact_document(document: _Doc, file: str, raw_text: str | None = None) -> tuple[_Doc, list[SecretHit]]:
    """Return the document with token values replaced (in place), and where they were.

    `raw_text`, when given, lets a clean file skip the walk: one regex pass over the whole text.
    Pointers are built only for hits: a large inventory with one pasted secret walks fast.
    """
    # One pass over the whole text (decoded too) clears a clean file without walking it.
    if raw_text is not None and not contains_secret(raw_text):
        return document, []
    hits: list[SecretHit] = []

    def scrub(value: str, path: list) -> str:
        pointer = pointer_of(path)

        def found(described) -> None:
            provider, prefix, masked, digest = described
            hits.append(SecretHit(file, pointer, provider, prefix, masked, digest))

        return _redact(value, found)

    def aws_secret(key, value: str, path: list) -> str | None:
        if isinstance(key, str) and _AWS_SECRET_KEY.search(key) and _AWS_SECRET_VALUE.fullmatch(value):
            provider, prefix, masked, digest = _describe_value("aws", "", value)
            hits.append(SecretHit(file, pointer_of([*path, key]), provider, prefix, masked, digest))
            return f"{REDACTED}:{masked}"
        return None

    clean_keys: set[str] = set()  # field names repeat in every entry: check each once
    search, encoded = _COMBINED.search, _ENCODED.search

    def suspect(text: str) -> bool:
        if len(text) < _SHORT:
            return search(text) is not None or (encoded(text) is not None and contains_secret(text))
        return contains_secret(text)

    def secret_key(key) -> bool:
        if not isinstance(key, str) or key in clean_keys:
            return False
        if suspect(key):
            return True
        clean_keys.add(key)
        return False

    def walk(node, path: list):
        if isinstance(node, dict):
            if any(secret_key(key) for key in node):
                renamed = {}
                for key, item in node.items():
                    if secret_key(key):
                        clean = redact_text(key)
                        key = scrub(key, [*path, clean])  # the pointer names the redacted key
                    renamed[key] = item
                node.clear()
                node.update(renamed)
            items: list[tuple[Any, Any]] = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            return
        for key, item in items:
            if type(item) is str:
                if suspect(item):
                    node[key] = scrub(item, [*path, key])
                elif len(item) == 40:
                    replaced = aws_secret(key, item, path)
                    if replaced:
                        node[key] = replaced
            elif isinstance(item, (dict, list)):
                path.append(key)
                walk(item, path)
                path.pop()

    if isinstance(document, str):
        return cast(_Doc, scrub(document, []) if contains_secret(document) else document), hits
    walk(document, [])
    return document, hits
