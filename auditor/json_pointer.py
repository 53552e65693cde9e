"""JSON Pointers (RFC 6901): the one place that escapes, builds and takes them apart.

Every pointer the auditor writes (messages, `source.pointer`, SARIF regions, secret hits) is built here
or from literal field names that need no escaping (`/tokens/3/created_at`).
"""

from __future__ import annotations

from collections.abc import Iterable


def escape(token: str | int) -> str:
    """One reference token: `~` → `~0`, then `/` → `~1` (this order, so `~1` in a key stays `~01`)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The key a reference token names: `~1` → `/`, then `~0` → `~` (the reverse order of `escape`)."""
    return token.replace("~1", "/").replace("~0", "~")


def join(base: str, *tokens: str | int) -> str:
    """`base` followed by each key or index, escaped: join("/spaces", "a/b") == "/spaces/a~1b"."""
    return base + "".join("/" + escape(token) for token in tokens)


def pointer_of(path: Iterable[str | int]) -> str:
    """The pointer of a path of keys and indexes (jsonschema's `absolute_path`, a walk's stack); [] is ""."""
    return join("", *path)


def split(pointer: str) -> list[str]:
    """The keys and indexes (as text) a pointer names; "" (the whole document) has none."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON pointer (it must be empty or start with /)")
    return [unescape(token) for token in pointer[1:].split("/")]


def parent(pointer: str) -> str:
    """The pointer one level up ("" stays ""): an escaped key holds no `/`, so the last one separates."""
    return pointer.rsplit("/", 1)[0]
