"""Waivers: accepted risks with a reason, an approver and an end date (`--waivers FILE`).

A waiver covers the findings of one rule on the subjects its `match` selects. Until it expires the
finding stays in every output, marked waived, and does not count toward the exit code; once expired it
waives nothing and is listed as expired. A waiver that matched nothing is listed as unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase

from auditor.errors import ValidationFailed
from auditor.inventory.loader import load_paths
from auditor.inventory.validate import schema_errors
from auditor.model.timestamps import parse_time

SCHEMA = "waivers.v1"


def one_year_after(day: date) -> date:
    """The same calendar day next year (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@dataclass
class Waiver:
    index: int
    rule_id: str
    match: dict
    reason: str
    approved_by: str
    ticket: str | None
    expires: date
    file: str
    pointer: str
    line: int | None
    expired: bool = False
    matched: int = 0

    def covers(self, finding: dict) -> bool:
        if finding.get("rule_id") != self.rule_id:
            return False
        subject = finding.get("subject") or {}
        for key, wanted in self.match.items():
            if key == "name":
                if not fnmatchcase(str(subject.get("name") or ""), wanted):
                    return False
            elif str(subject.get("id" if key == "token_id" else key) or "") != wanted:
                return False
        return True

    def stamp(self) -> dict:
        """What a finding carries of the waiver that matched it."""
        out = {"reason": self.reason, "approved_by": self.approved_by, "ticket": self.ticket,
               "expires": self.expires.isoformat()}
        if self.expired:
            out["expired"] = True
        return out

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "match": dict(sorted(self.match.items())),
            **{k: v for k, v in self.stamp().items() if k != "expired"},
            "expired": self.expired,
            "matched": self.matched,
            "source": {"file": self.file, "pointer": self.pointer, "line": self.line},
        }


def load_waivers(path: str, now: str) -> list[Waiver]:
    """Read and validate a waivers file; every error names file, line and pointer (exit 2)."""
    document = load_paths([path])[0]
    errors = schema_errors(document, SCHEMA)
    if errors:
        raise ValidationFailed(errors)
    today = parse_time(now).date()
    waivers: list[Waiver] = []
    for index, entry in enumerate(document.data.get("waivers") or []):
        pointer = f"/waivers/{index}"
        try:
            expires = date.fromisoformat(entry["expires"])
        except ValueError:
            errors.append(f"{document.where(pointer + '/expires')}: {entry['expires']!r} is not a calendar date")
            continue
        if expires > one_year_after(today):
            errors.append(f"{document.where(pointer + '/expires')}: {expires.isoformat()} is more than one year "
                          f"after {today.isoformat()}; waivers must be renewed at least yearly")
            continue
        waivers.append(Waiver(
            index=index, rule_id=entry["rule_id"], match=dict(entry["match"]), reason=entry["reason"].strip(),
            approved_by=entry["approved_by"].strip(), ticket=entry.get("ticket"), expires=expires,
            file=document.path, pointer=pointer, line=document.line_of(pointer),
            expired=expires < today,
        ))
    if errors:
        raise ValidationFailed(errors)
    return waivers


def apply_waivers(findings: list[dict], waivers: list[Waiver], file: str) -> dict:
    """Mark findings waived (or under an expired waiver) and return the report's `waivers` section."""
    for finding in findings:
        covering = [w for w in waivers if w.covers(finding)]
        for waiver in covering:
            waiver.matched += 1
        active = next((w for w in covering if not w.expired), None)
        chosen = active or (covering[0] if covering else None)
        finding["waived"] = active is not None
        if chosen is not None:
            finding["waiver"] = chosen.stamp()
    return {
        "file": file,
        "active": [w.as_dict() for w in waivers if not w.expired],
        "expired": [w.as_dict() for w in waivers if w.expired],
        "unused": [w.as_dict() for w in waivers if w.matched == 0],
    }
