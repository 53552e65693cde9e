"""Compliance mappings (`policies/frameworks/*.yaml`): requirement → rule ids, and each requirement's
status for an audited inventory. The mappings are data; this module only reads and applies them.

Status of a requirement in a report:
  fail          a finding (not waived) of one of its rules
  not assessed  none fired, but one of its rules did not run for some organization: the inventory lacked
                the evidence it needs (report `not_assessed`), so a pass cannot be claimed
  pass          all its rules ran everywhere and found nothing
  manual        no rule can check it from an inventory (its `manual` text says what a person must check)
  n/a           the framework concerns providers the audited inventory does not contain
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from auditor import json_pointer
from auditor.errors import InputError
from auditor.inventory.validate import load_schema

NOT_ASSESSED = "not assessed"
STATUSES = ("fail", NOT_ASSESSED, "pass", "manual", "n/a")


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    mapped: tuple[str, ...]
    manual: str | None
    kinds: tuple[str, ...] = ()  # only findings on subjects of these kinds count (empty: all)
    requires: tuple[str, ...] = ()  # evidence kinds the requirement needs beyond its rules' own


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    version: str | None
    url: str | None
    providers: tuple[str, ...]
    rules_from_metadata: str | None
    requirements: tuple[Requirement, ...]
    path: str
    order: int = 100

    def rules_for(self, requirement: Requirement, catalogue: list[dict]) -> tuple[list[str], list[str]]:
        """(rule ids in the catalogue that check the requirement, mapped ids the catalogue lacks)."""
        known = {rule["id"] for rule in catalogue}
        rules = {r for r in requirement.mapped if r in known}
        if self.rules_from_metadata:
            rules |= {rule["id"] for rule in catalogue if requirement.id in (rule.get(self.rules_from_metadata) or [])}
        missing = sorted(r for r in requirement.mapped if r not in known)
        return sorted(rules), missing


def frameworks_dir(policy_dir: Path) -> Path:
    return Path(policy_dir) / "frameworks"


def load_frameworks(policy_dir: Path) -> list[Framework]:
    """Every mapping file under POLICY_DIR/frameworks, validated by `framework-mapping.v1`."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema("framework-mapping.v1"))
    found = []
    for path in sorted(frameworks_dir(policy_dir).glob("*.y*ml")):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"{path}: cannot read framework mapping: {str(exc).splitlines()[0]}") from None
        error = next(iter(sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))), None)
        if error is not None:
            pointer = json_pointer.pointer_of(error.absolute_path) or "/"
            raise InputError(f"{path}: {pointer}: {error.message}")
        ((framework_id, body),) = document.items()
        found.append(
            Framework(
                id=framework_id,
                title=body["title"],
                version=body.get("version"),
                url=body.get("url"),
                providers=tuple(body.get("providers") or ()),
                rules_from_metadata=body.get("rules_from_metadata"),
                requirements=tuple(
                    Requirement(
                        r["id"],
                        r["title"],
                        tuple(r["rules"]),
                        r.get("manual"),
                        tuple(r.get("kinds") or ()),
                        tuple(r.get("requires") or ()),
                    )
                    for r in body["requirements"]
                ),
                path=str(path),
                order=body.get("order", 100),
            )
        )
    return sorted(found, key=lambda f: (f.order, f.id))


def find_framework(frameworks: list[Framework], name: str) -> Framework:
    for framework in frameworks:
        if framework.id == name:
            return framework
    raise InputError(f"unknown framework {name!r}; known: {', '.join(f.id for f in frameworks) or 'none'}")


def coverage(framework: Framework, catalogue: list[dict]) -> list[dict]:
    """Per requirement: which rules check it and whether that is all (automated), part (partial) or none (manual)."""
    rows = []
    for requirement in framework.requirements:
        rules, missing = framework.rules_for(requirement, catalogue)
        kind = "manual" if not rules else ("partial" if requirement.manual else "automated")
        rows.append(
            {
                "id": requirement.id,
                "title": requirement.title,
                "coverage": kind,
                "rules": rules,
                "missing_rules": missing,
                "manual": requirement.manual,
                "kinds": list(requirement.kinds),
                "requires": list(requirement.requires),
            }
        )
    return rows


def assess(framework: Framework, report: Mapping[str, Any]) -> list[dict]:
    """Per requirement of framework: its status for the audited inventory in report (a JSON report dict)."""
    catalogue = report.get("rules") or [{"id": r} for r in (report.get("policy") or {}).get("rules", [])]
    audited = set((report.get("summary") or {}).get("tokens_by_provider") or {})
    applies = not framework.providers or bool(audited & set(framework.providers))
    fired: Counter[tuple[str, str | None]] = Counter()  # (rule id, subject kind) → findings
    for finding in report.get("findings") or []:
        if finding.get("waived") is True:
            continue
        subject = finding.get("subject") or {}
        provider = finding.get("provider") or subject.get("provider")
        if framework.providers and provider not in framework.providers:
            continue
        fired[(finding["rule_id"], subject.get("kind"))] += 1
    unassessed: dict[str, list[str]] = {}  # rule id → "provider org" where it did not run
    for entry in report.get("not_assessed") or []:
        if framework.providers and entry["provider"] not in framework.providers:
            continue
        unassessed.setdefault(entry["rule_id"], []).append(f"{entry['provider']} {entry['org']}")
    lacking: dict[str, list[str]] = {}  # evidence kind → "provider org" where it is not present
    for entry in report.get("evidence") or []:
        if framework.providers and entry["provider"] not in framework.providers:
            continue
        for kind, status in (entry.get("evidence") or {}).items():
            if status != "present":
                lacking.setdefault(kind, []).append(f"{entry['provider']} {entry['org']}")
    rows = []
    for row in coverage(framework, catalogue):
        hits: Counter[str] = Counter()
        for (rule, kind), n in fired.items():
            if rule in row["rules"] and (not row["kinds"] or kind in row["kinds"]):
                hits[rule] += n
        not_run = sorted(rule for rule in row["rules"] if rule in unassessed)
        unseen = sorted({o for kind in row["requires"] for o in lacking.get(kind, [])})
        why = [f"{rule} not run in {', '.join(unassessed[rule])}" for rule in not_run]
        why += [f"no {kind} for {', '.join(lacking[kind])}" for kind in row["requires"] if kind in lacking]
        if not row["rules"]:
            status = "manual"
        elif not applies:
            status = "n/a"
        elif hits:
            status = "fail"
        else:
            status = NOT_ASSESSED if not_run or unseen else "pass"
        rows.append(
            {
                **row,
                "status": status,
                "findings": sum(hits.values()),
                "failed_rules": sorted(hits),
                "not_assessed_rules": not_run if applies else [],
                "not_assessed_in": sorted({o for r in not_run for o in unassessed[r]} | set(unseen)) if applies else [],
                "not_assessed_why": "; ".join(why) if applies and status == NOT_ASSESSED else "",
            }
        )
    return rows


def assess_all(report: Mapping[str, Any], frameworks: Sequence[Framework]) -> list[dict]:
    """Each framework assessed against report: [{id, title, version, url, providers, counts, requirements}]."""
    results = []
    for framework in frameworks:
        rows = assess(framework, report)
        counts = Counter(r["status"] for r in rows)
        results.append(
            {
                "id": framework.id,
                "title": framework.title,
                "version": framework.version,
                "url": framework.url,
                "providers": list(framework.providers),
                "counts": {s: counts.get(s, 0) for s in STATUSES},
                "requirements": rows,
            }
        )
    return results


def compliance_markdown(assessed: list[dict]) -> str:
    """Markdown tables (one per framework of assess_all) of each requirement's status, for the Markdown report."""
    lines = []
    for result in assessed:
        counts = ", ".join(f"{n} {s}" for s, n in result["counts"].items() if n)
        lines += [
            f"**{_md(result['title'])}**: {counts}",
            "",
            "| requirement | title | status | rules that fired (or why not assessed) |",
            "|---|---|---|---|",
        ]
        for row in result["requirements"]:
            fired = ", ".join(f"`{r}`" for r in row["failed_rules"])
            if row["status"] == NOT_ASSESSED:
                fired = _md(row["not_assessed_why"])
            lines.append(f"| {_md(row['id'])} | {_md(row['title'])} | {row['status']} | {fired} |")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
