"""Waivers: accepted risks with a reason, an approver and an end date (`--waivers FILE`).

A waiver covers the findings of one rule on the subjects its `match` selects. Until it expires the
finding stays in every output, marked waived, and does not count toward the exit code; once expired it
waives nothing and is listed as expired. A waiver that matched nothing is listed as unused.

Two kinds of waiver would silence a gate rather than accept one risk, so they are refused (exit 2):
a waiver that pins no subject (no token_id, owner or fingerprint, and a name pattern of wildcards only)
unless --allow-broad-waivers is given, and a waiver of a rule whose action is purge or revoke (a leaked or
dead credential) that does not name the exact finding fingerprint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

from auditor.errors import ValidationFailed
from auditor.inventory.loader import load_paths
from auditor.inventory.validate import schema_errors
from auditor.model.timestamps import parse_time
from auditor.report.model import Finding, WaiverStamp

SCHEMA = "waivers.v1"
# Actions that say the credential must go: waivable one finding at a time, by fingerprint.
UNWAIVABLE_BY_PATTERN = ("purge", "revoke")
# Match keys that pin a subject; provider alone, or a name of wildcards only, pins none.
PINNING_KEYS = ("token_id", "owner", "fingerprint")
_GLOB = re.compile(r"\[[^\]]*\]|[*?]")


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

    def covers(self, finding: Finding) -> bool:
        if finding.get("rule_id") != self.rule_id:
            return False
        action = (finding.get("recommendation") or {}).get("action")
        if action in UNWAIVABLE_BY_PATTERN and "fingerprint" not in self.match:
            return False  # also when a custom catalogue's metadata says otherwise
        subject = finding.get("subject") or {}
        for key, wanted in self.match.items():
            if key == "fingerprint":
                if finding.get("fingerprint") != wanted:
                    return False
            elif key == "name":
                if not fnmatchcase(str(subject.get("name") or ""), wanted):
                    return False
            elif str(subject.get("id" if key == "token_id" else key) or "") != wanted:
                return False
        return True

    def stamp(self) -> WaiverStamp:
        """What a finding carries of the waiver that matched it."""
        out: WaiverStamp = {
            "reason": self.reason,
            "approved_by": self.approved_by,
            "ticket": self.ticket,
            "expires": self.expires.isoformat(),
        }
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


def is_broad(match: dict) -> bool:
    """True when match pins no subject: no token_id, owner or fingerprint, and no literal in the name glob."""
    if any(key in match for key in PINNING_KEYS):
        return False
    return not _GLOB.sub("", str(match.get("name", "")))


def rule_actions(policy_dir: Path | None = None) -> dict[str, str]:
    """rule id → recommended action, from the policies' METADATA."""
    from auditor.findings import load_rules

    if policy_dir is None:
        from auditor.audit import DEFAULT_POLICY_DIR

        policy_dir = DEFAULT_POLICY_DIR
    return {rule.id: rule.recommended_action for rule in load_rules(Path(policy_dir))}


def _refusal(entry: dict, actions: dict[str, str], allow_broad: bool) -> str | None:
    """Why this waiver would silence a gate instead of accepting one risk, or None."""
    rule_id, match = entry["rule_id"], entry["match"]
    action = actions.get(rule_id)
    if action in UNWAIVABLE_BY_PATTERN and "fingerprint" not in match:
        return (
            f"{rule_id} recommends {action}: its findings can be waived only one at a time, by "
            "fingerprint (match: {fingerprint: …} from the JSON report)"
        )
    if is_broad(match) and not allow_broad:
        keys = ", ".join(f"{key}: {value}" for key, value in sorted(match.items()))
        return (
            f"waives {rule_id} without pinning a subject (match {{{keys}}}); match a token_id, owner, "
            "fingerprint or a name with literal characters, or pass --allow-broad-waivers"
        )
    return None


def load_waivers(path: str, now: str, *, policy_dir: Path | None = None, allow_broad: bool = False) -> list[Waiver]:
    """Read and validate a waivers file; every error names file, line and pointer (exit 2)."""
    document = load_paths([path])[0]
    errors = schema_errors(document, SCHEMA)
    if errors:
        raise ValidationFailed(errors)
    today = parse_time(now).date()
    actions = rule_actions(policy_dir)
    waivers: list[Waiver] = []
    data = document.data
    assert isinstance(data, dict)  # waivers.v1 says so
    for index, entry in enumerate(data.get("waivers") or []):
        pointer = f"/waivers/{index}"
        refusal = _refusal(entry, actions, allow_broad)
        if refusal:
            errors.append(f"{document.where(pointer + '/match')}: {refusal}")
            continue
        try:
            expires = date.fromisoformat(entry["expires"])
        except ValueError:
            errors.append(f"{document.where(pointer + '/expires')}: {entry['expires']!r} is not a calendar date")
            continue
        if expires > one_year_after(today):
            errors.append(
                f"{document.where(pointer + '/expires')}: {expires.isoformat()} is more than one year "
                f"after {today.isoformat()}; waivers must be renewed at least yearly"
            )
            continue
        waivers.append(
            Waiver(
                index=index,
                rule_id=entry["rule_id"],
                match=dict(entry["match"]),
                reason=entry["reason"].strip(),
                approved_by=entry["approved_by"].strip(),
                ticket=entry.get("ticket"),
                expires=expires,
                file=document.path,
                pointer=pointer,
                line=document.line_of(pointer),
                expired=expires < today,
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return waivers


def apply_waivers(findings: list[Finding], waivers: list[Waiver], file: str) -> dict:
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
