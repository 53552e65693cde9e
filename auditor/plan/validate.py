"""Is a planned credential one the provider would create?

The provider registries (auditor.registry) answer that; `catalogue_problems` checks against the policy
catalogue's own permission, scope, level and kind tables. A plan carries every problem found (`problems`),
and the tests require none."""

from __future__ import annotations

from auditor import registry
from auditor.plan.catalogue import Catalogue

HF_ENTITY_TYPES = ("model", "dataset", "space", "user", "org", "collection", "bucket")
GITHUB_SELECTIONS = ("subset", "selected", "all")


# What the provider is asked to create; the plan's own bookkeeping (id, name, places, reasons) stays out.
REQUESTED_FIELDS = (
    "provider",
    "type",
    "token_type",
    "resource_owner",
    "installed_on",
    "repository_selection",
    "repositories",
    "permissions",
    "scopes",
    "access_level",
    "expires_at",
    "scoped",
    "global",
    "canReadGatedRepos",
)


def requested(credential: dict) -> dict:
    return {k: credential[k] for k in REQUESTED_FIELDS if k in credential}


def credential_problems(credential: dict, catalogue: Catalogue, justified_admin: tuple[str, ...] = ()) -> list[str]:
    """Problems the provider registry finds; admin-rated permissions the plan keeps on purpose are not one."""
    return list(registry.credential_problems(requested(credential), justified_admin=justified_admin))


def catalogue_problems(credential: dict, catalogue: Catalogue) -> list[str]:
    provider = credential.get("provider") or ""
    checker = {"github": _github, "gitlab": _gitlab, "huggingface": _huggingface}.get(provider)
    return checker(credential, catalogue.of(provider)) if checker else []


def _github(credential: dict, entry: dict) -> list[str]:
    problems = []
    if credential.get("type") not in ("fine_grained_pat", "github_app", "classic_pat"):
        problems.append(f"github credential type {credential.get('type')!r} does not exist")
    known = entry.get("permissions") or {}
    groups = entry.get("permission_groups") or {}
    for group, permissions in (credential.get("permissions") or {}).items():
        for name, level in permissions.items():
            if f"{name}:{level}" not in known:
                problems.append(f"github permission {name}: {level} does not exist")
            elif groups.get(name, "repository") != group:
                problems.append(
                    f"github permission {name} is a {groups.get(name, 'repository')} permission, not {group}"
                )
    for scope in credential.get("scopes") or []:
        if scope not in (entry.get("scopes") or {}):
            problems.append(f"github scope {scope} does not exist")
    selection = credential.get("repository_selection")
    if selection is not None and selection not in GITHUB_SELECTIONS:
        problems.append(f"github repository_selection {selection!r} does not exist")
    return problems


def _gitlab(credential: dict, entry: dict) -> list[str]:
    problems = []
    kind = credential.get("token_type") or credential.get("type")
    if kind not in (entry.get("kinds") or {}):
        problems.append(f"gitlab token type {kind!r} does not exist")
    for scope in credential.get("scopes") or []:
        if scope not in (entry.get("scopes") or {}):
            problems.append(f"gitlab scope {scope} does not exist")
    level = credential.get("access_level")
    if level is not None:
        if kind == "personal_access_token":
            problems.append("a gitlab personal access token has no access_level")
        elif str(level) not in (entry.get("access_levels") or {}):
            problems.append(f"gitlab access_level {level} does not exist")
    return problems


def _huggingface(credential: dict, entry: dict) -> list[str]:
    problems = []
    known = entry.get("permissions") or {}
    for scoped in credential.get("scoped") or []:
        entity = scoped.get("entity") or {}
        if entity.get("type") not in HF_ENTITY_TYPES:
            problems.append(f"huggingface entity type {entity.get('type')!r} does not exist")
        for permission in scoped.get("permissions") or []:
            if permission not in known:
                problems.append(f"huggingface permission {permission} does not exist")
    for permission in credential.get("global") or []:
        if permission not in known:
            problems.append(f"huggingface permission {permission} does not exist")
    return problems
