"""The rule catalogue, read from each check's package `# METADATA` annotations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from auditor.errors import EngineError

_BLOCK = re.compile(r"^# METADATA\n((?:#.*\n)+?)package\s+([\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class Rule:
    """One check: its id, default severity, title and what the annotations say of it."""

    id: str
    severity: str
    title: str
    description: str
    nhi: tuple[str, ...]
    recommended_action: str
    package: str
    path: str
    related_resources: tuple[str, ...] = field(default_factory=tuple)
    providers: tuple[str, ...] = field(default_factory=tuple)
    requires: tuple[str, ...] = field(default_factory=tuple)  # evidence kinds (auditor/evidence.py)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "description": self.description,
            "nhi": list(self.nhi),
            "recommended_action": self.recommended_action,
            "providers": list(self.providers),
            "requires": list(self.requires),
            "related_resources": list(self.related_resources),
            "package": self.package,
        }


def load_rules(policy_dir: Path) -> list[Rule]:
    rules: list[Rule] = []
    for path in sorted((policy_dir / "checks").rglob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        text = path.read_text()
        match = _BLOCK.search(text)
        main_module = path.stem == path.parent.name  # checks/<id>/<id>.rego; other modules may be helpers
        if not match:
            if main_module:
                raise EngineError(f"{path}: a check without a package # METADATA block (custom.id, severity, …)")
            continue
        body = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in match.group(1).splitlines())
        try:
            meta = yaml.safe_load(body) or {}
        except yaml.YAMLError as exc:
            raise EngineError(f"{path}: bad # METADATA block: {exc}") from None
        custom = meta.get("custom") or {}
        if "id" not in custom:
            if main_module:
                raise EngineError(f"{path}: a check without custom.id in its package # METADATA")
            continue
        rules.append(
            Rule(
                id=custom["id"],
                severity=custom.get("severity", "medium"),
                title=meta.get("title", custom["id"]),
                description=" ".join(str(meta.get("description", "")).split()),
                nhi=tuple(custom.get("nhi") or ()),
                recommended_action=custom.get("recommended_action", ""),
                package=match.group(2),
                path=str(path.relative_to(policy_dir)),
                related_resources=tuple(r.get("ref", "") for r in meta.get("related_resources") or []),
                providers=tuple(custom.get("providers") or ()),
                requires=tuple(custom.get("requires") or ()),
            )
        )
    return sorted(rules, key=lambda r: r.id)
