"""Is a proposed credential one the provider would let someone create?

The registries under policies/token_auditor/registry/<provider>/data.json record what each
provider offers (permission names and levels, scopes per token type, where a permission can be
granted, endpoints), from the providers' own machine-readable descriptions and documentation.
`credential_problems` checks a replacement spec (the `recommendation.replacement` of a finding)
against them; policies/lib/registry does the same in Rego.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent / "policies"
_REPO_ENTITIES = {"model", "dataset", "space"}
_ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[A-Za-z0-9_:{}./%@-]+)")


@lru_cache(maxsize=8)
def _load(policy_dir: Path, name: str) -> dict:
    return json.loads((policy_dir / "token_auditor" / name / "data.json").read_text(encoding="utf-8"))


def registry(provider: str, policy_dir: Path = POLICY_DIR) -> dict:
    """The provider's registry ({} when there is none)."""
    path = policy_dir / "token_auditor" / "registry" / provider / "data.json"
    return _load(policy_dir, f"registry/{provider}") if path.is_file() else {}


def _catalogue(provider: str, policy_dir: Path) -> dict:
    path = policy_dir / "token_auditor" / "catalogue" / "providers" / provider / "data.json"
    return _load(policy_dir, f"catalogue/providers/{provider}") if path.is_file() else {}


def _admin_rated(provider: str, name: str, policy_dir: Path) -> bool:
    catalogue = _catalogue(provider, policy_dir)
    return (catalogue.get("permissions") or {}).get(name) == "admin" or (catalogue.get("scopes") or {}).get(
        name
    ) == "admin"


_ADMIN_RATED = re.compile(r"^(?:github|gitlab|huggingface) (?:scope |permission )?(.+) is admin-rated$")


def credential_problems(
    credential: dict, policy_dir: Path = POLICY_DIR, justified_admin: Collection[str] = ()
) -> list[str]:
    """Why the provider would refuse to create `credential`, or why we would (an admin-rated permission):
    empty when it is creatable. `justified_admin` names admin-rated permissions a plan keeps on purpose,
    with its reason (`access_level:owner` for GitLab's Owner level)."""
    provider = credential.get("provider")
    check = _CHECKS.get(provider) if isinstance(provider, str) else None
    if check is None or not isinstance(provider, str):
        return [] if provider in _NO_REGISTRY else [f"unknown provider {provider!r}"]
    problems = check(credential, registry(provider, policy_dir), policy_dir)
    for extra in credential.get("also") or []:
        problems += credential_problems(extra, policy_dir, justified_admin)
    if justified_admin:
        justified = {"access level 50 (owner)" if name == "access_level:owner" else name for name in justified_admin}
        problems = [p for p in problems if not ((m := _ADMIN_RATED.match(p)) and m.group(1) in justified)]
    return sorted(set(problems))


def _github(credential: dict, reg: dict, policy_dir: Path) -> list[str]:
    kind = credential.get("type")
    problems = []
    if kind not in reg["token_types"]:
        return [f"github token type {kind!r} does not exist"]
    registries_only = set(reg["package_registries"]["permissions"])
    for group, entries in (credential.get("permissions") or {}).items():
        for name, level in entries.items():
            offered = reg["permissions"].get(name)
            if offered is None:
                problems.append(f"github permission {name!r} does not exist")
                continue
            if level not in offered["levels"]:
                problems.append(
                    f"github permission {name} has no level {level!r} (offered: {', '.join(offered['levels'])})"
                )
            if group != offered["group"]:
                problems.append(f"github permission {name} is a {offered['group']} permission, not {group}")
            if kind == "fine_grained_pat" and name in registries_only:
                problems.append(f"github {name}: GitHub Packages registries accept only classic PATs")
            if _admin_rated("github", f"{name}:{level}", policy_dir):
                problems.append(f"github {name}:{level} is admin-rated")
    scopes = credential.get("scopes") or []
    if scopes and reg["token_types"][kind]["grants"] != "scopes":
        problems.append(f"github {kind} takes permissions, not scopes")
    for scope in scopes:
        if scope not in reg["classic_scopes"]:
            problems.append(f"github scope {scope!r} does not exist")
        elif _admin_rated("github", scope, policy_dir):
            problems.append(f"github scope {scope} is admin-rated")
    return problems


def _gitlab(credential: dict, reg: dict, policy_dir: Path) -> list[str]:
    kind = credential.get("type") or credential.get("token_type")
    spec = reg["token_types"].get(kind)
    if spec is None:
        return [f"gitlab token type {kind!r} does not exist"]
    scopes = credential.get("scopes") or []
    problems = [f"gitlab {kind} does not accept scope {s!r}" for s in scopes if s not in spec["scopes"]]
    for scope, needs in reg["required_together"][kind].items():
        if scope in scopes:
            problems += [f"gitlab {kind} with {scope} also needs {n}" for n in needs if n not in scopes]
    problems += [f"gitlab scope {s} is admin-rated" for s in scopes if _admin_rated("gitlab", s, policy_dir)]
    level = credential.get("access_level")
    if level is not None:
        if not spec["access_level"]:
            problems.append(f"gitlab {kind} has no access level")
        elif str(level) not in reg["access_levels"]:
            problems.append(f"gitlab access level {level!r} does not exist")
        elif reg["access_levels"][str(level)] == "owner":
            problems.append("gitlab access level 50 (owner) is admin-rated")
    return problems


def _hf_where(entity_type: str) -> str:
    return "repo" if entity_type in _REPO_ENTITIES else entity_type


def _huggingface(credential: dict, reg: dict, policy_dir: Path) -> list[str]:
    problems = []
    kind = credential.get("type")
    if kind not in reg["token_types"]:
        return [f"huggingface token type {kind!r} does not exist"]
    if reg["token_types"][kind].get("creatable") is False:
        problems.append(f"huggingface {kind} can no longer be created")

    def check(name: str, where: str) -> None:
        offered = reg["permissions"].get(name)
        if offered is None:
            problems.append(f"huggingface permission {name!r} does not exist")
        elif where not in offered["on"]:
            problems.append(
                f"huggingface permission {name} cannot be granted on a {where} (only: {', '.join(offered['on'])})"
            )
        elif offered.get("admin") or _admin_rated("huggingface", name, policy_dir):
            problems.append(f"huggingface permission {name} is admin-rated")

    for entry in credential.get("scoped") or []:
        entity_type = (entry.get("entity") or {}).get("type")
        if not isinstance(entity_type, str) or entity_type not in reg["entity_types"]:
            problems.append(f"huggingface entity type {entity_type!r} does not exist")
            continue
        for name in entry.get("permissions") or []:
            check(name, _hf_where(entity_type))
    for name in credential.get("global") or []:
        check(name, "global")
    return problems


_CHECKS = {"github": _github, "gitlab": _gitlab, "huggingface": _huggingface}
# Providers without a permission model to check: their replacements are owner questions.
_NO_REGISTRY = {"npm", "pypi"}


def _template(path: str) -> re.Pattern:
    """A registry path (/groups/:id/…, /orgs/{org}/…) as a pattern: each placeholder is one segment."""
    parts = [
        "[^/]+" if p.startswith(":") or (p.startswith("{") and p.endswith("}")) else re.escape(p)
        for p in path.split("/")
    ]
    return re.compile("/".join(parts) + "$")


def _known_endpoints(reg: dict) -> set[str]:
    endpoints = reg.get("endpoints") or {}
    found = set()
    for key, value in endpoints.items():
        if isinstance(value, dict) and " /" not in key:  # GitLab: per token type, by action
            for lines in value.values():
                found |= set(lines)
        else:
            found.add(key)
    return found


def step_problems(provider: str, steps: list[str], policy_dir: Path = POLICY_DIR) -> list[str]:
    """API endpoints named in steps that the provider's registry does not have."""
    reg = registry(provider, policy_dir)
    known = [(m, _template(p)) for m, p in (e.split(" ", 1) for e in _known_endpoints(reg))]
    problems = []
    for step in steps:
        for method, path in _ENDPOINT.findall(step):
            path = path.rstrip(".,;)").split("?")[0]
            if not any(m == method and pattern.match(path) for m, pattern in known):
                problems.append(f"{provider} endpoint {method} {path} is not in the registry")
    return sorted(set(problems))
