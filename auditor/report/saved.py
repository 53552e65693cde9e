"""Read a saved JSON report back (`token-auditor report RESULT.json`) so any format can be rendered later."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from auditor.errors import InputError
from auditor.report.model import Report


@lru_cache(maxsize=1)
def _validator():
    """The published report schema, compiled: fastjsonschema checks a 100k-finding report in about a second,
    where the interpreting validator takes half a minute. The schema only uses draft-07 keywords."""
    import fastjsonschema

    from auditor.inventory.validate import load_schema

    schema = {**load_schema("report.v1"), "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(schema)


def load_report(path: str) -> Report:
    """The report in path, checked against the published `report.v1` schema; InputError (exit 2) otherwise."""
    import fastjsonschema

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    from auditor.inventory.loader import strict_json_loads

    try:
        data = strict_json_loads(path, text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}:{exc.lineno}: not JSON ({exc.msg}); expected a report written by "
            "`token-auditor audit --format json`"
        ) from None
    tool = data.get("tool") if isinstance(data, dict) else None
    if not isinstance(tool, dict) or tool.get("name") != "token-auditor":
        raise InputError(
            f'{path}: not a token-auditor report (no tool.name "token-auditor"); expected the output '
            "of `token-auditor audit --format json`"
        )
    try:
        _validator()(data)
    except RecursionError:
        raise InputError(f"{path}: nested too deeply for a token-auditor report") from None
    except fastjsonschema.JsonSchemaValueException as exc:
        pointer = "/" + "/".join(str(p) for p in (exc.path or [])[1:])
        message = exc.message.split(" ", 1)[1] if exc.message.startswith("data") else exc.message
        raise InputError(f"{path}: {pointer}: not a valid token-auditor report: {message[:200]}") from None
    from auditor.redaction import redact_document

    data, _ = redact_document(data, path)  # a report edited by hand, or by an older version, may hold one
    return Report(data)
