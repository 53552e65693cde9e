"""The configuration file: found automatically, validated by its schema (config.v1), rules selected by it.

Discovery: `--config FILE`, else `.token-auditor.yaml` in the current directory, else in the repository root
(`git rev-parse --show-toplevel`); `--no-config` uses none. Thresholds and catalogue overrides go to the
policies as `input.config`; `skip_rules` / `only_rules` select rules and stay on this side.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from auditor import json_pointer
from auditor.errors import InputError, ValidationFailed
from auditor.inventory.loader import load_paths
from auditor.inventory.validate import load_schema, schema_errors

FILE_NAME = ".token-auditor.yaml"
SCHEMA = "config.v1"
SELECTION_KEYS = ("skip_rules", "only_rules")


def repository_root(start: Path) -> Path | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    top = result.stdout.strip()
    return Path(top) if result.returncode == 0 and top else None


def discover(explicit: str | None, no_config: bool, cwd: Path | None = None) -> str | None:
    """The config file this run uses, or None."""
    if no_config:
        if explicit:
            raise InputError("--config and --no-config contradict each other; give one")
        return None
    if explicit:
        return explicit
    here = Path.cwd() if cwd is None else cwd
    candidates = [here / FILE_NAME]
    root = repository_root(here)
    if root is not None:
        candidates.append(root / FILE_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    return None


def _unknown_keys(document, schema: dict, data, pointer: str = "") -> list[str]:
    """`file:line: unknown key 'x' at /pointer (known: …)` for every key the schema does not allow."""
    if not isinstance(data, dict) or schema.get("additionalProperties") is not False:
        return []
    known = schema.get("properties") or {}
    errors = []
    for key, value in data.items():
        where = json_pointer.join(pointer, key)
        if key not in known:
            line = document.line_of(where)
            place = f"{document.path}:{line}" if line else document.path
            errors.append(f"{place}: unknown key {key!r} at {pointer or '/'} (known: {', '.join(sorted(known))})")
        else:
            errors.extend(_unknown_keys(document, known[key], value, where))
    return errors


def load_config(path: str | None) -> dict:
    """The config YAML, validated: unknown keys first (one line each), then the schema."""
    if path is None:
        return {}
    document = load_paths([path])[0]
    data = document.data
    if data is None:
        return {}
    errors = _unknown_keys(document, load_schema(SCHEMA), data) or schema_errors(document, SCHEMA)
    if errors:
        raise ValidationFailed(errors)
    return cast(dict, data)  # the schema's top level is an object


def policy_config(config: dict) -> dict:
    """What the policies see as input.config: the config without the rule selection."""
    return {k: v for k, v in config.items() if k not in SELECTION_KEYS}


@dataclass(frozen=True)
class RuleSelection:
    """Rules switched off by --skip-rule / --only-rule or the config's skip_rules / only_rules."""

    skip: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    skip_source: str = "--skip-rule"
    only_source: str = "--only-rule"

    @classmethod
    def build(cls, skip_cli, only_cli, config: dict, config_file: str | None) -> RuleSelection:
        in_file = f"in {config_file}"
        skip = tuple(dict.fromkeys([*(config.get("skip_rules") or []), *skip_cli]))
        sources = [
            s for s, used in ((f"skip_rules {in_file}", config.get("skip_rules")), ("--skip-rule", skip_cli)) if used
        ]
        if only_cli:
            only, only_source = tuple(dict.fromkeys(only_cli)), "--only-rule"
        else:
            only, only_source = tuple(config.get("only_rules") or ()), f"only_rules {in_file}"
        return cls(skip=skip, only=only, skip_source=" and ".join(sources) or "--skip-rule", only_source=only_source)

    def check(self, known: list[str]) -> None:
        """Unknown rule ids are a usage error (exit 2): a typo must not switch nothing off silently."""
        known_set = set(known)
        for source, ids in ((self.skip_source, self.skip), (self.only_source, self.only)):
            unknown = [i for i in ids if i not in known_set]
            if unknown:
                raise InputError(
                    f"{source}: unknown rule id {', '.join(map(repr, unknown))}; `token-auditor rules` lists them"
                )

    def skipped(self, known: list[str]) -> list[dict]:
        """Every known rule this selection switches off, with why, in rule-id order."""
        out = []
        for rule_id in sorted(known):
            if rule_id in self.skip:
                out.append({"id": rule_id, "reason": f"skipped by configuration ({self.skip_source})"})
            elif self.only and rule_id not in self.only:
                out.append({"id": rule_id, "reason": f"skipped by configuration (not in {self.only_source})"})
        return out

    def __bool__(self) -> bool:
        return bool(self.skip or self.only)
