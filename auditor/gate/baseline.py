"""Baselines: the findings of an earlier run that a gate accepts as already known.

`--baseline FILE` reads an earlier JSON report (or a file written by `--write-baseline`); a finding whose
fingerprint is in it is marked `baseline: true` and does not count toward the exit code.
"""

from __future__ import annotations

import json

from auditor.errors import InputError

FORMAT = "token-auditor-baseline/v1"


def load_baseline(path: str) -> set[str]:
    """Fingerprints of an earlier report or baseline file."""
    from auditor.inventory.loader import strict_json_loads

    try:
        with open(path, encoding="utf-8") as handle:
            data = strict_json_loads(path, handle.read())
    except OSError as exc:
        raise InputError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: baseline is not JSON: {exc}") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise InputError(f"{path}: /findings: not a token-auditor JSON report or baseline (no findings list)")
    out: set[str] = set()
    for index, finding in enumerate(findings):
        fingerprint = finding.get("fingerprint") if isinstance(finding, dict) else None
        if not isinstance(fingerprint, str) or not fingerprint:
            raise InputError(f"{path}: /findings/{index}/fingerprint: missing")
        out.add(fingerprint)
    return out


def apply_baseline(findings: list[dict], known: set[str], file: str) -> dict:
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


def baseline_document(findings: list[dict]) -> str:
    """A small, diff-friendly baseline: one entry per finding, sorted by fingerprint, no clock."""
    entries = sorted(
        ({"fingerprint": f["fingerprint"], "rule_id": f["rule_id"], "severity": f["severity"],
          "subject": (f.get("subject") or {}).get("key")} for f in findings),
        key=lambda e: e["fingerprint"],
    )
    return json.dumps({"format": FORMAT, "findings": entries}, indent=2, ensure_ascii=False) + "\n"
