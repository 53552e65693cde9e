"""Read a saved JSON report back (`report`, `plan`, `frameworks --report`, `--baseline`) so any format can render it.

Reports of schema_version 1.x are upgraded as they are read (`upgrade`): the subject's masked token moves from
`fingerprint` to `masked`, and each finding gets the gate state `fails_gate` it did not carry yet.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.files import read_user_text
from auditor.report.model import SCHEMA_VERSION, Report


@lru_cache(maxsize=1)
def _validator():
    """The published report schema, compiled: fastjsonschema checks a 100k-finding report in about a second,
    where the interpreting validator takes half a minute. The schema only uses draft-07 keywords."""
    import fastjsonschema

    from auditor.inventory.validate import load_schema

    schema = {**load_schema("report.v1"), "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(schema)


def upgrade(data: Any) -> Any:
    """A report document of an earlier schema_version in today's shape (in place); anything else as it is."""
    if not isinstance(data, dict) or not isinstance(data.get("schema_version"), str):
        return data
    if data["schema_version"].startswith("1."):
        findings = data.get("findings")
        for finding in findings if isinstance(findings, list) else []:
            subject = finding.get("subject") if isinstance(finding, dict) else None
            if isinstance(subject, dict) and "fingerprint" in subject and "masked" not in subject:
                subject["masked"] = subject.pop("fingerprint")
        data["schema_version"] = SCHEMA_VERSION
    return data


def report_of(data: Any, policy_dir: Path | None = None) -> Report:
    """A Report over a report document (upgraded) that every format can render: findings' gate state filled in
    for reports saved without it, compliance assessed with the frameworks of policy_dir (default: shipped)."""
    from auditor.audit import DEFAULT_POLICY_DIR
    from auditor.frameworks import assess_all, load_frameworks
    from auditor.gate import judge_saved

    data = upgrade(data)
    judge_saved(data["findings"], (data.get("gate") or {}).get("fail_on", "high"))
    frameworks = tuple(load_frameworks(policy_dir or DEFAULT_POLICY_DIR))
    return Report(data, frameworks, assess_all(data, frameworks))


def read_report(path: str) -> dict[str, Any]:
    """The report document in path, upgraded and checked against the published `report.v1` schema; InputError
    (exit 2) otherwise. Token values a hand-edited report may hold are redacted."""
    import fastjsonschema

    text = read_user_text(path)
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
        _validator()(upgrade(data))
    except RecursionError:
        raise InputError(f"{path}: nested too deeply for a token-auditor report") from None
    except fastjsonschema.JsonSchemaValueException as exc:
        pointer = "/" + "/".join(str(p) for p in (exc.path or [])[1:])
        message = exc.message.split(" ", 1)[1] if exc.message.startswith("data") else exc.message
        raise InputError(f"{path}: {pointer}: not a valid token-auditor report: {message[:200]}") from None
    from auditor.redaction import redact_document

    redacted, _ = redact_document(data, path)  # a report edited by hand, or by an older version, may hold one
    if not isinstance(redacted, dict):  # pragma: no cover - the schema says it is an object
        raise InputError(f"{path}: not a token-auditor report")
    return redacted


def load_report(path: str, policy_dir: Path | None = None) -> Report:
    """The report in path (see read_report), ready for every format (see report_of)."""
    return report_of(read_report(path), policy_dir)
