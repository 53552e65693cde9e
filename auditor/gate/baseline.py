"""Baselines: the findings of an earlier run that a gate accepts as already known.

`--baseline FILE` reads an earlier JSON report or a file written by `--write-baseline` (schema:
`token-auditor schema baseline`); a finding whose fingerprint is in it is marked `baseline: true` and does
not count toward the exit code. Whoever can edit the baseline decides what the gate ignores: keep it under
CODEOWNERS review (docs/ci.md, "Protect the baseline and the waivers").
"""

from __future__ import annotations

import json

from auditor.errors import InputError, ValidationFailed
from auditor.inventory.loader import load_document
from auditor.inventory.validate import capped, schema_errors
from auditor.report.model import Finding

FORMAT = "token-auditor-baseline/v1"
SCHEMA = "baseline.v1"


def load_baseline(path: str) -> set[str]:
    """Fingerprints of an earlier report or baseline file, validated by its schema (exit 2, file:line: pointer)."""
    document = load_document(path)
    data = document.data
    if isinstance(data, dict) and "format" not in data and (data.get("tool") or {}).get("name") == "token-auditor":
        schema = "report.v1"  # a saved JSON report used as baseline
        from auditor.saved_report import upgrade

        upgrade(data)  # a report of schema 1.x
    elif isinstance(data, dict) and "format" not in data and "findings" in data:
        raise InputError(
            f"{path}: /format: missing; a baseline is a file written by --write-baseline "
            f"(format {FORMAT}) or a JSON report of `token-auditor audit --format json`"
        )
    else:
        schema = SCHEMA
    errors = capped(document, schema_errors(document, schema))
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(data, dict)  # both schemas say so
    return {finding["fingerprint"] for finding in data["findings"]}


def apply_baseline(findings: list[Finding], known: set[str], file: str) -> dict:
    """Mark findings `baseline` and return the report's `baseline` section."""
    seen: set[str] = set()
    for finding in findings:
        finding["baseline"] = finding["fingerprint"] in known
        if finding["baseline"]:
            seen.add(finding["fingerprint"])
    return {
        "file": file,
        "fingerprints": len(known),
        "matched": len(seen),
        "new": sum(1 for f in findings if not f["baseline"]),
        "resolved": len(known - seen),
    }


def baseline_document(findings: list[Finding]) -> str:
    """A small, diff-friendly baseline: one entry per finding, sorted by fingerprint, no clock."""
    entries = sorted(
        (
            {
                "fingerprint": f["fingerprint"],
                "rule_id": f["rule_id"],
                "severity": f["severity"],
                "subject": f["subject"]["key"],
            }
            for f in findings
        ),
        key=lambda e: e["fingerprint"],
    )
    return json.dumps({"format": FORMAT, "findings": entries}, indent=2, ensure_ascii=False) + "\n"
