"""Stage 6: reports. One output format per module, each a class with one `format(report)` method."""

from __future__ import annotations

from auditor.errors import InputError
from auditor.report.model import Report


def formatters() -> dict:
    from auditor.report import csv_format, json_format, jsonl_format, table

    found = {
        "table": table.TableFormat,
        "json": json_format.JsonFormat,
        "jsonl": jsonl_format.JsonlFormat,
        "csv": csv_format.CsvFormat,
    }
    for name in ("sarif", "junit", "markdown", "html"):
        try:
            module = __import__(f"auditor.report.{name}", fromlist=["FORMAT"])
        except ImportError:
            continue
        found[name] = module.FORMAT
    return found


def render(report: Report, name: str) -> str:
    try:
        formatter = formatters()[name]
    except KeyError:
        raise InputError(f"unknown format {name!r}; known: {', '.join(sorted(formatters()))}") from None
    return formatter().format(report)


__all__ = ["Report", "formatters", "render"]
