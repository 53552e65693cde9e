"""Compliance mappings (`policies/frameworks/*.yaml`): requirement → rule ids, and each requirement's
status for an audited inventory. The mappings are data; this module only reads and applies them.

Status of a requirement in a report:
  fail   a finding (not waived) of one of its rules
  pass   its rules ran and found nothing
  manual no rule can check it from an inventory (its `manual` text says what a person must check)
  n/a    the framework concerns providers the audited inventory does not contain
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from auditor.errors import InputError
from auditor.inventory.validate import load_schema

STATUSES = ("fail", "pass", "manual", "n/a")


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    mapped: tuple[str, ...]
    manual: str | None


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
            pointer = "/" + "/".join(str(p) for p in error.absolute_path)
            raise InputError(f"{path}: {pointer}: {error.message}")
        (framework_id, body), = document.items()
        found.append(Framework(
            id=framework_id,
            title=body["title"],
            version=body.get("version"),
            url=body.get("url"),
            providers=tuple(body.get("providers") or ()),
            rules_from_metadata=body.get("rules_from_metadata"),
            requirements=tuple(Requirement(r["id"], r["title"], tuple(r["rules"]), r.get("manual"))
                               for r in body["requirements"]),
            path=str(path),
            order=body.get("order", 100),
        ))
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
        rows.append({"id": requirement.id, "title": requirement.title, "coverage": kind, "rules": rules,
                     "missing_rules": missing, "manual": requirement.manual})
    return rows


def assess(framework: Framework, report: dict) -> list[dict]:
    """Per requirement of framework: its status for the audited inventory in report (a JSON report dict)."""
    catalogue = report.get("rules") or [{"id": r} for r in (report.get("policy") or {}).get("rules", [])]
    audited = set((report.get("summary") or {}).get("tokens_by_provider") or {})
    applies = not framework.providers or bool(audited & set(framework.providers))
    fired: dict[str, Counter] = {}
    for finding in report.get("findings") or []:
        if finding.get("waived") is True:
            continue
        provider = finding.get("provider") or (finding.get("subject") or {}).get("provider")
        if framework.providers and provider not in framework.providers:
            continue
        fired.setdefault(finding["rule_id"], Counter())[finding["severity"]] += 1
    rows = []
    for row in coverage(framework, catalogue):
        hits = {rule: sum(fired[rule].values()) for rule in row["rules"] if rule in fired}
        if not row["rules"]:
            status = "manual"
        elif not applies:
            status = "n/a"
        else:
            status = "fail" if hits else "pass"
        rows.append({**row, "status": status, "findings": sum(hits.values()), "failed_rules": sorted(hits)})
    return rows


def assess_all(report: dict, policy_dir: Path | None = None) -> list[dict]:
    """Every shipped framework assessed against report: [{id, title, version, url, providers, counts, requirements}]."""
    from auditor.audit import DEFAULT_POLICY_DIR

    results = []
    for framework in load_frameworks(policy_dir or DEFAULT_POLICY_DIR):
        rows = assess(framework, report)
        counts = Counter(r["status"] for r in rows)
        results.append({"id": framework.id, "title": framework.title, "version": framework.version,
                        "url": framework.url, "providers": list(framework.providers),
                        "counts": {s: counts.get(s, 0) for s in STATUSES}, "requirements": rows})
    return results


def compliance_markdown(report: dict, policy_dir: Path | None = None) -> str:
    """Markdown tables (one per framework) of each requirement's status, for the Markdown report to include."""
    lines = []
    for result in assess_all(report, policy_dir):
        counts = ", ".join(f"{n} {s}" for s, n in result["counts"].items() if n)
        lines += [f"**{_md(result['title'])}**: {counts}", "",
                  "| requirement | title | status | rules that fired |", "|---|---|---|---|"]
        for row in result["requirements"]:
            fired = ", ".join(f"`{r}`" for r in row["failed_rules"])
            lines.append(f"| {_md(row['id'])} | {_md(row['title'])} | {row['status']} | {fired} |")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
