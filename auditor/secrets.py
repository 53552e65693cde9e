"""Detect real token values in inventories and redact them before anything else sees them.

An inventory should hold ids, prefixes and last-four characters, never a secret. When one slips in,
we replace it in memory, keep only a masked form and a one-way digest, and report that it was there.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Each pattern matches a whole credential of a known shape. Long, random bodies only: `hf_` alone
# (a prefix field) or `c90d` (a last-four field) must never match.
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
    ("slack", "xox", r"xox[abposr]-[A-Za-z0-9\-]{10,}"),
)
_COMBINED = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:" + "|".join(f"(?P<p{i}>{p[2]})" for i, p in enumerate(_PATTERNS)) + r")(?![A-Za-z0-9])"
)
REDACTED = "[REDACTED]"


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


def _describe(match: re.Match) -> tuple[str, str, str, str]:
    index = int(match.lastgroup[1:])
    provider, label, _ = _PATTERNS[index]
    value = match.group(0)
    prefix = value[: len(label)] if not label.endswith("?_") else value[:4]
    masked = f"{prefix}…{value[-4:]}"
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    return provider, prefix, masked, digest


def contains_secret(text: str) -> bool:
    return _COMBINED.search(text) is not None


def redact_text(text: str) -> str:
    """Redact every token value in free text (error messages, logs)."""
    return _COMBINED.sub(lambda m: f"{REDACTED}:{_describe(m)[2]}", text)


def escape_pointer_token(token: str) -> str:
    """One JSON Pointer reference token (RFC 6901): `~` → `~0`, `/` → `~1`."""
    return token.replace("~", "~0").replace("/", "~1")


def redact_document(document, file: str, raw_text: str | None = None) -> tuple[object, list[SecretHit]]:
    """Return the document with token values replaced (in place), and where they were.

    `raw_text`, when given, lets a clean file skip the walk: one regex pass over the whole text.
    Pointers are built only for hits: a large inventory with one pasted secret walks fast.
    """
    # The shortcut holds only when the text has no escapes: `\u0067hp_…` or `\nghp_…` differ once parsed.
    if raw_text is not None and "\\" not in raw_text and not contains_secret(raw_text):
        return document, []
    hits: list[SecretHit] = []
    search = _COMBINED.search

    def pointer_of(path: list) -> str:
        return "".join("/" + escape_pointer_token(str(step)) for step in path)

    def scrub(value: str, path: list) -> str:
        pointer = pointer_of(path)

        def replace(match: re.Match) -> str:
            provider, prefix, masked, digest = _describe(match)
            hits.append(SecretHit(file, pointer, provider, prefix, masked, digest))
            return f"{REDACTED}:{masked}"

        return _COMBINED.sub(replace, value)

    def walk(node, path: list):
        if isinstance(node, dict):
            if any(isinstance(key, str) and search(key) for key in node):
                renamed = {}
                for key, item in node.items():
                    if isinstance(key, str) and search(key):
                        clean = _COMBINED.sub(lambda m: f"{REDACTED}:{_describe(m)[2]}", key)
                        key = scrub(key, [*path, clean])  # the pointer names the redacted key
                    renamed[key] = item
                node.clear()
                node.update(renamed)
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            return
        for key, item in list(items):
            if isinstance(item, str):
                if search(item):
                    node[key] = scrub(item, [*path, key])
            elif isinstance(item, (dict, list)):
                path.append(key)
                walk(item, path)
                path.pop()

    if isinstance(document, str):
        return (scrub(document, []) if search(document) else document), hits
    walk(document, [])
    return document, hits
