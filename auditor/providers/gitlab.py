"""GitLab: token API answers read as-is, bare or in the `gitlab-inventory/v1` wrapper.

`GET /personal_access_tokens`, `/groups/:id/access_tokens` and `/projects/:id/access_tokens`
answer the same object shape (group and project tokens add `access_level`). Ids are unique only
per kind, so every token's identity (`key`) includes its kind. A bare file cannot say whether
`access_level` tokens belong to a group or a project: its name must contain `group` or
`project` (as the export commands of docs/inventory/gitlab.md write them), or use the wrapper.
"""

from __future__ import annotations

import copy
from pathlib import PurePath

from auditor import evidence, json_pointer
from auditor.errors import InputError
from auditor.inventory.loader import Document
from auditor.model.inventory import InputSummary, Inventory, Skipped, complete_token
from auditor.providers.common import collected_at, observed_usage, org_entry, paged_items, stored_in, time_at

PROVIDER = "gitlab"
FORMAT = "gitlab-inventory/v1"
API_FORMAT = "gitlab-api"
SCHEMA = "gitlab-inventory.v1"
SECTIONS = (
    ("personal_access_tokens", "personal_access_token"),
    ("group_access_tokens", "group_access_token"),
    ("project_access_tokens", "project_access_token"),
)
RESOURCE_TYPE = {"personal_access_token": "user", "group_access_token": "group", "project_access_token": "project"}
ACCESS_LEVELS = {10: "guest", 15: "planner", 20: "reporter", 30: "developer", 40: "maintainer", 50: "owner"}


def is_token(item) -> bool:
    return isinstance(item, dict) and "scopes" in item and "revoked" in item and "user_id" in item


def _items(value) -> list:
    """Tokens of an answer; `--slurp`-style pages (arrays of arrays) become one list."""
    return [item for item, _ in paged_items(value)]


def holder_from_path(path: str) -> tuple[str, str] | None:
    """`…/groups/PATH/<file>` or `…/projects/PATH/<file>` (the API path): (kind, group or project path)."""
    parts = PurePath(path).parts[:-1]
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in ("groups", "projects") and index + 1 < len(parts):
            kind = "group_access_token" if parts[index] == "groups" else "project_access_token"
            return kind, "/".join(parts[index + 1 :])
    return None


def _bare_kind(document: Document, items: list) -> str:
    if not any("access_level" in item for item in items):
        return "personal_access_token"
    found = holder_from_path(document.path)
    if found:
        return found[0]
    name = PurePath(document.path).name.lower()
    if "group" in name:
        return "group_access_token"
    if "project" in name:
        return "project_access_token"
    raise InputError(
        f"{document.path}: group or project access tokens? Save a bare export of tokens with "
        "access_level under groups/PATH/ or projects/PATH/ (or with `group` or `project` in "
        "its name), or use the gitlab-inventory/v1 wrapper"
    )


def _access_level(level) -> str | None:
    if level is None:
        return None
    return f"access_level:{ACCESS_LEVELS.get(level, level)}"


class GitLabAdapter:
    provider = PROVIDER
    formats: tuple[str, ...] = (FORMAT,)

    def recognises(self, document: Document) -> bool:
        items = _items(document.data) if isinstance(document.data, list) else []
        return bool(items) and all(is_token(item) for item in items)

    def schema_for(self, document: Document) -> str:
        return SCHEMA

    def normalize(self, document: Document, options: dict) -> Inventory:
        data = document.data
        if isinstance(data, dict) and data.get("format") == FORMAT:
            org_name = data.get("instance") or data.get("group")
            users = {u["id"]: u["username"] for u in data.get("users") or []}
            sections = [(json_pointer.join("", key), kind, data[key]) for key, kind in SECTIONS if key in data]
            fmt = FORMAT
            defaults = {"group_access_token": data.get("group"), "project_access_token": data.get("project")}
        else:
            items = _items(data)
            kind = _bare_kind(document, items)
            holder = (holder_from_path(document.path) or (None, None))[1]
            org_name = options.get("org") or (holder.split("/")[0] if holder else None)
            if not org_name:
                raise InputError(
                    f"{document.path}: a bare GitLab token export does not say its instance or "
                    "group: pass --org NAME or use the gitlab-inventory/v1 wrapper"
                )
            users, fmt = {}, API_FORMAT
            sections = [("", kind, data)]
            defaults = {"group_access_token": holder or org_name, "project_access_token": holder}
        out = Inventory()
        org = org_entry(PROVIDER, org_name, document)
        # no GitLab export gives membership yet: owner-not-member is not assessed for GitLab
        org["evidence"] = {"members": evidence.MISSING}
        when = collected_at(document, options)
        if when:
            org["settings"]["collected_at"] = when
        count = 0
        tokens = Inventory()  # merged one by one: a bot's token listed twice is audited once
        for base, kind, value in sections:
            # {"group/path": [tokens…]} names each list's group or project; a plain list uses the default
            groups = value.items() if isinstance(value, dict) else [(None, value)]
            for holder, listing in groups:
                where = json_pointer.join(base, holder) if holder is not None else base
                holder = holder or defaults.get(kind)
                for item, pointer in paged_items(listing, where):
                    count += 1
                    token = self._token(document, pointer, item, kind, org_name, holder, users, out)
                    if token is not None:
                        tokens.merge(Inventory(tokens=[token]))
        out.tokens, out.skipped = tokens.tokens, out.skipped + tokens.skipped
        out.orgs.append(org)
        out.inputs.append(InputSummary(document.path, document.sha256, fmt, PROVIDER, count))
        return out

    def _token(self, document, pointer, item, kind, org, holder, users, out) -> dict | None:
        if not is_token(item):
            raise InputError(
                f"{document.where(pointer)}: not a GitLab access token object (needs id, scopes, revoked, user_id)"
            )
        token_id = str(item["id"])
        if item.get("revoked"):
            out.skipped.append(Skipped(PROVIDER, token_id, item.get("name"), "revoked", document.path, pointer))
            return None
        if item.get("active") is False:
            out.skipped.append(
                Skipped(PROVIDER, token_id, item.get("name"), "inactive (expired or revoked)", document.path, pointer)
            )
            return None
        user_id = item.get("user_id")
        owner = users.get(user_id) or f"user-{user_id}"
        scopes = sorted(set(item.get("scopes") or []))
        permissions = list(scopes)
        level = _access_level(item.get("access_level"))
        if level:
            permissions.append(level)
        resource_type = RESOURCE_TYPE[kind]
        resource_name = owner if kind == "personal_access_token" else holder or f"(unknown {resource_type})"
        token = {
            "id": token_id,
            "provider": PROVIDER,
            "kind": kind,
            "name": item.get("name"),
            "owner": owner,
            "prefix": "glpat-",
            "legacy": False,
            "org_wide": kind == "group_access_token",
            "grants": [
                {"resource": {"type": resource_type, "name": resource_name}, "permissions": sorted(permissions)}
            ],
            "scopes": scopes,
            "created_at": time_at(document, pointer + "/created_at", item.get("created_at")),
            "expires_at": time_at(document, pointer + "/expires_at", item.get("expires_at")),
            "last_used_at": time_at(document, pointer + "/last_used_at", item.get("last_used_at")),
            "expiry_supported": True,
            "active": True,
            "orgs": [org],
            "access_level": item.get("access_level"),
            "stored_in": stored_in(item.get("stored_in")),
            "observed_usage": observed_usage(item.get("observed_usage")),
            "native": copy.deepcopy(item),
        }
        token = complete_token(token, document.path, pointer)
        # Group and project tokens are PersonalAccessToken rows of a bot user: one id sequence, and an
        # admin's GET /personal_access_tokens lists them too. The group/project listing says more.
        token["identity"] = f"gitlab:{user_id}:{token_id}"
        token["identity_priority"] = 0 if kind == "personal_access_token" else 1
        token["duplicate_reason"] = f"the same GitLab token as the {kind.replace('_', ' ')}"
        return token


ADAPTER = GitLabAdapter()
