"""The Format interface every output format implements, and the registry `--format NAME` looks formats up in.

A format turns a finished document into text and does nothing else: no file, network or clock. The audit formats
render a Report; the diff formats (auditor/gate/diff_format.py) render the diff document through the same interface.
A format that can write a large document piece by piece also offers `render_stream(document, write)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from auditor.errors import InputError
from auditor.report.model import Report

Document = TypeVar("Document", contravariant=True)


class Format(Protocol[Document]):
    name: str  # what --format takes
    extension: str  # file name ending under --output-dir

    def render(self, report: Document, /) -> str: ...


@runtime_checkable
class StreamingFormat(Protocol[Document]):
    """A format that can also write its output in pieces (for documents too large to hold as one string)."""

    name: str
    extension: str

    def render(self, report: Document, /) -> str: ...

    def render_stream(self, report: Document, write: Callable[[str], object], /) -> None: ...


def _registry() -> dict[str, Format[Report]]:
    from auditor.report import csv_format, html, json_format, jsonl_format, junit, markdown, sarif, table

    found: list[Format[Report]] = [
        table.TableFormat(),
        json_format.JsonFormat(),
        jsonl_format.JsonlFormat(),
        csv_format.CsvFormat(),
        sarif.SarifFormat(),
        junit.JunitFormat(),
        markdown.MarkdownFormat(),
        html.HtmlFormat(),
    ]
    return {f.name: f for f in found}


FORMATS: dict[str, Format[Report]] = _registry()


def render(report: Report, name: str) -> str:
    """report in the format called name; InputError (exit 2) for a name no format has."""
    try:
        chosen = FORMATS[name]
    except KeyError:
        raise InputError(f"unknown format {name!r}; known: {', '.join(sorted(FORMATS))}") from None
    return chosen.render(report)


__all__ = ["FORMATS", "Format", "StreamingFormat", "render"]
