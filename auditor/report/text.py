"""Making inventory values safe for each human output: terminals, Markdown comments and XML.

Inventory fields (names, owners, notes, file names) are attacker-controlled. A terminal obeys escape
sequences (OSC 52 writes the clipboard, OSC 8 hides links, ESC[2J clears the screen), Markdown pings
`@team` and renders `# heading`, and XML 1.0 forbids some characters outright. The JSON report keeps every
value as it was; the human formats show a capped, escaped rendering.
"""

from __future__ import annotations

import re

# Longest value one table or Markdown cell shows; tabulate's wrapping is quadratic in cell length.
CELL_LIMIT = 200
ELLIPSIS = "…"

# C0 controls, DEL, C1 controls, and the Unicode characters that reorder or break lines (bidi overrides,
# line/paragraph separators): shown as visible escapes so nothing is hidden and nothing is obeyed.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_NEWLINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value, keep_newlines: bool = False) -> str:
    """value as text with every control character shown as `\\xNN` (newlines too, unless kept)."""
    text = "" if value is None else str(value)
    return (_UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE).sub(_visible, text)


def cap(text: str, limit: int = CELL_LIMIT) -> str:
    """text cut to at most limit characters, the last being an ellipsis when anything was cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def cap_cell(value, limit: int = CELL_LIMIT) -> str:
    """One value for a terminal table cell: at most limit characters, no control characters."""
    text = "" if value is None else str(value)
    # Cut before escaping so a 10 MB value costs no more than a short one, then again after.
    return cap(terminal_safe(text[: limit + 1]), limit)


# Inline punctuation Markdown gives meaning to anywhere in a line; escaped with a backslash.
_MD_INLINE = re.compile(r"([\\`*_\[\]|~#!])")
# Block markup that only counts at the start of a line: list items, quotes, setext heading underlines.
_MD_LEADING = re.compile(r"^([-+=]|\d+[.)])")
# GitHub turns a backslash-escaped `@team` into a mention all the same; a word joiner after `@` never does.
_MENTION = "@\u2060"
MARKDOWN_LIMIT = 500


def markdown_escape(value, limit: int | None = MARKDOWN_LIMIT) -> str:
    """A value as inert inline Markdown: one line, no HTML, no mention, heading, list, quote, table or link.

    Whitespace runs become one space, `&`, `<` and `>` become entities (so no quote or HTML), the punctuation
    Markdown reacts to gets a backslash (a leading list or setext marker too), `@` cannot form a mention.
    """
    text = "" if value is None else str(value)
    if limit is not None:
        text = cap(text[: limit + 1], limit)
    text = terminal_safe(" ".join(text.split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_LEADING.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)
    return text.replace("@", _MENTION)


def markdown_code(value, limit: int = 200) -> str:
    """A value as one inline code span: no backtick, newline or pipe can end it or the table cell around it."""
    text = terminal_safe(" ".join(cap(str(value if value is not None else "")[: limit + 1], limit).split()))
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


_XML_DROP = re.compile(
    "[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufdcf\ufdf0-\ufffd\U00010000-\U0010ffff]|"
    "[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)


def xml_safe(value) -> str:
    """value without any character XML 1.0 forbids or discourages (C0 and C1 controls, surrogates,
    non-characters), each replaced by U+FFFD so that the reader sees something was there."""
    text = "" if value is None else str(value)
    return _XML_DROP.sub("\ufffd", text)


__all__ = [
    "CELL_LIMIT",
    "MARKDOWN_LIMIT",
    "cap",
    "cap_cell",
    "markdown_code",
    "markdown_escape",
    "terminal_safe",
    "xml_safe",
]
