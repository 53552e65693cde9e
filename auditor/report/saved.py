"""Read a saved JSON report back (`token-auditor report RESULT.json`) so any format can be rendered later."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.errors import InputError
from auditor.report.model import Report


def load_report(path: str) -> Report:
    """The report in path, checked against the published `report.v1` schema; InputError (exit 2) otherwise."""
    import jsonschema

    from auditor.inventory.validate import load_schema

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); expected a report written by "
                         "`token-auditor audit --format json`") from None
    tool = data.get("tool") if isinstance(data, dict) else None
    if not isinstance(tool, dict) or tool.get("name") != "token-auditor":
        raise InputError(f"{path}: not a token-auditor report (no tool.name \"token-auditor\"); expected the output "
                         "of `token-auditor audit --format json`")
    validator = jsonschema.Draft202012Validator(load_schema("report.v1"))
    error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))), None)
    if error is not None:
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        raise InputError(f"{path}: {pointer}: not a valid token-auditor report: {error.message[:200]}")
    return Report(data)
