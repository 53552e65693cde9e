"""Stage 6: reports. One output format per module, each a class with one `format(report)` method."""

from __future__ import annotations

from auditor.errors import InputError
from auditor.report.model import Report


def formatters() -> dict:
    from auditor.report import csv_format, html, json_format, junit, markdown, sarif, table

    return {
        "table": table.TableFormat,
        "json": json_format.JsonFormat,
        "csv": csv_format.CsvFormat,
        "sarif": sarif.FORMAT,
        "junit": junit.FORMAT,
        "markdown": markdown.FORMAT,
        "html": html.FORMAT,
    }


def render(report: Report, name: str) -> str:
    try:
        formatter = formatters()[name]
    except KeyError:
        raise InputError(f"unknown format {name!r}; known: {', '.join(sorted(formatters()))}") from None
    return formatter().format(report)


__all__ = ["Report", "formatters", "render"]
