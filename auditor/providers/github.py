"""GitHub: `gh api` answers read as-is, bare or in the `github-inventory/v1` wrapper.

A bare file is one endpoint's answer: a JSON array (or `--paginate` pages back to back, or
`--slurp` pages in an array). It does not say which endpoint or org it came from, so the endpoint
is recognised from the objects' shape and the org comes from `--org`.

How GitHub objects land in the normalized model (see docs/inventory/github.md):
- fine-grained PAT grants (`/orgs/ORG/personal-access-tokens`) → tokens of kind `fine_grained_pat`;
- SAML credential authorizations → `classic_pat`, `oauth_app_token`, `github_app_user_token`
  (unknown credential types kept as `unknown_credential`); SSH keys are skipped (not a token);
- pending requests and App installations are not tokens (yet / of a person): they go to the org
  entry as `settings.pending_requests` and `settings.installations`, token-shaped, so the
  pending-broad-request and third-party-broad-access checks judge them and no token check does;
- `org_settings` (PAT policy) → org `token_policy` and `settings.github`; members → org `members`.
"""

from __future__ import annotations

import copy
from pathlib import PurePath
from typing import Any

from auditor import evidence, json_pointer
from auditor.errors import InputError
from auditor.inventory.loader import Document
from auditor.model.inventory import InputSummary, Inventory, Skipped, complete_token
from auditor.providers import common
from auditor.providers.common import collected_at, observed_usage, paged_items, source, stored_in, time_at

PROVIDER = "github"
FORMAT = "github-inventory/v1"
API_FORMAT = "github-api"  # what the report lists for a bare `gh api` file
SCHEMA = "github-inventory.v1"

CREDENTIAL_KINDS = {
    "personal access token": "classic_pat",
    "OAuth app token": "oauth_app_token",
    "GitHub app token": "github_app_user_token",
}
PREFIXES = {
    "classic_pat": "ghp_",
    "oauth_app_token": "gho_",
    "github_app_user_token": "ghu_",
    "fine_grained_pat": "github_pat_",
    "fine_grained_pat_request": "github_pat_",
    "github_app_installation": "ghs_",
}
# Wrapper keys, in the order they are read, with the endpoint each holds.
SECTIONS = (
    ("personal_access_tokens", "grants"),
    ("personal_access_token_requests", "requests"),
    ("credential_authorizations", "credentials"),
    ("installations", "installations"),
    ("members", "members"),
    ("admins", "members"),
)
# Which evidence kind (auditor/evidence.py) each endpoint supplies; `admins` alone is not the member list.
EVIDENCE = {
    "grants": "personal_access_tokens",
    "requests": "personal_access_token_requests",
    "credentials": "credential_authorizations",
    "installations": "installations",
    "members": "members",
}
# A collector's `collection.endpoints` names → evidence kinds, where they differ.
COLLECTION_ALIASES = {
    "org_settings": "org_policies",
    "requests": "personal_access_token_requests",
    "pending_requests": "personal_access_token_requests",
}
# An empty bare answer has no objects to tell its endpoint by: its file name (as docs/inventory/github.md saves it) does.
FILE_ENDPOINTS = {
    "personal-access-tokens": "grants",
    "personal-access-token-requests": "requests",
    "credential-authorizations": "credentials",
    "members": "members",
    "installations": "installations",
}


def _items(value) -> list:
    """Items of an endpoint answer: pages (`--slurp`) and `{total_count, installations}` unwrapped."""
    return [item for item, _ in paged_items(value, inner="installations")]


def _is_installations_page(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("installations"), list) and "total_count" in value


def _empty_endpoint(document: Document) -> str | None:
    data = document.data
    if isinstance(data, dict) or (isinstance(data, list) and any(_is_installations_page(p) for p in data)):
        return "installations"
    return FILE_ENDPOINTS.get(PurePath(document.path).stem)


def endpoint_of(item) -> str | None:
    """Which `gh api` endpoint an object comes from, by its fields."""
    if not isinstance(item, dict):
        return None
    if "credential_id" in item and "credential_type" in item:
        return "credentials"
    if "repository_selection" in item and "permissions" in item and "owner" in item:
        if "access_granted_at" in item:
            return "grants"
        if "reason" in item or "created_at" in item:
            return "requests"
        return "grants" if "token_id" in item else None
    if "app_slug" in item or ("app_id" in item and "target_type" in item):
        return "installations"
    if "login" in item and "id" in item and "credential_id" not in item:
        return "members"
    return None


def org_from_path(path: str) -> str | None:
    """`…/orgs/ORG/<file>` (the API path the answer came from) names the org of a bare file."""
    parts = PurePath(path).parts
    for index in range(len(parts) - 2, 0, -1):
        if parts[index - 1] == "orgs":
            return parts[index]
    return None


def _endpoints(items: list) -> set:
    return {endpoint_of(item) for item in items}


def _permissions(perms) -> list[str]:
    """`{name: level}` → sorted `name:level` strings; unknown names and levels are kept as written."""
    if not isinstance(perms, dict):
        return []
    return sorted(f"{name}:{level}" for name, level in perms.items() if isinstance(level, str))


def _repositories(item: dict) -> list[str]:
    """Repository full names a collector added (from `repositories_url`), if any."""
    out = []
    for repo in item.get("repositories") or []:
        name = repo.get("full_name") if isinstance(repo, dict) else repo
        if isinstance(name, str) and name:
            out.append(name)
    return sorted(set(out))


def _repo_resources(org: str, selection, repositories: list[str]) -> list[dict]:
    if selection == "all":
        return [{"type": "org_repositories", "name": org}]
    if selection in ("subset", "selected"):
        if repositories:
            return [{"type": "repository", "name": name} for name in repositories]
        return [{"type": "selected_repositories", "name": org}]
    return []


def _fine_grained(document: Document, pointer: str, item: dict, org: str, kind: str) -> dict:
    perms = item.get("permissions") or {}
    repositories = _repositories(item)
    grants = []
    for resource in _repo_resources(org, item.get("repository_selection"), repositories):
        granted = _permissions(perms.get("repository"))
        if granted:
            grants.append({"resource": resource, "permissions": granted})
    if _permissions(perms.get("organization")):
        grants.append(
            {"resource": {"type": "org", "name": org}, "permissions": _permissions(perms.get("organization"))}
        )
    owner = (item.get("owner") or {}).get("login") or "unknown"
    if _permissions(perms.get("other")):
        grants.append({"resource": {"type": "account", "name": owner}, "permissions": _permissions(perms.get("other"))})
    request = kind == "fine_grained_pat_request"
    token_id = item.get("id") if request or item.get("token_id") is None else item.get("token_id")
    token = {
        "id": str(token_id),
        "provider": PROVIDER,
        "kind": kind,
        "name": item.get("token_name"),
        "owner": owner,
        "prefix": PREFIXES[kind],
        "last4": None,
        "legacy": False,
        "org_wide": item.get("repository_selection") == "all",
        "grants": grants,
        "scopes": [],
        "created_at": time_at(
            document,
            pointer + ("/created_at" if request else "/access_granted_at"),
            item.get("created_at") if request else item.get("access_granted_at"),
        ),
        "expires_at": time_at(document, pointer + "/token_expires_at", item.get("token_expires_at")),
        "last_used_at": time_at(document, pointer + "/token_last_used_at", item.get("token_last_used_at")),
        "expiry_supported": True,
        "active": True,
        "orgs": [org],
        "approval": {org: "pending" if request else "approved"},
        "stored_in": stored_in(item.get("stored_in")),
        "observed_usage": observed_usage(item.get("observed_usage")),
        "repository_selection": item.get("repository_selection"),
        "native": item,
    }
    if request:
        token["reason"] = item.get("reason")
    return complete_token(token, document.path, pointer)


def _credential(document: Document, pointer: str, item: dict, org: str, out: Inventory) -> dict | None:
    credential_type = item.get("credential_type")
    name = item.get("authorized_credential_note") or item.get("authorized_credential_title")
    if credential_type == "SSH key":
        label = name or item.get("fingerprint") or "SSH key"
        out.skipped.append(
            Skipped(PROVIDER, str(item["credential_id"]), f"SSH key {label}", "not a token", document.path, pointer)
        )
        return None
    kind = CREDENTIAL_KINDS.get(str(credential_type), "unknown_credential")
    scopes = sorted(set(item.get("scopes") or []))
    token = {
        "id": str(item["credential_id"]),
        "provider": PROVIDER,
        "kind": kind,
        "name": name,
        "owner": item["login"],
        "prefix": PREFIXES.get(kind),
        "last4": item.get("token_last_eight"),
        "legacy": kind == "classic_pat",
        # classic and OAuth tokens reach every repository their user can, in every authorized org
        "org_wide": kind in ("classic_pat", "oauth_app_token"),
        "grants": [{"resource": {"type": "org", "name": org}, "permissions": scopes}] if scopes else [],
        "scopes": scopes,
        "created_at": time_at(document, pointer + "/credential_authorized_at", item.get("credential_authorized_at")),
        "expires_at": time_at(
            document, pointer + "/authorized_credential_expires_at", item.get("authorized_credential_expires_at")
        ),
        "last_used_at": time_at(document, pointer + "/credential_accessed_at", item.get("credential_accessed_at")),
        # only a classic PAT's owner sets its lifetime; an OAuth or App authorization has none to set
        "expiry_supported": kind == "classic_pat",
        "active": True,
        "orgs": [org],
        "approval": {org: "saml_authorized"},
        "stored_in": stored_in(item.get("stored_in")),
        "observed_usage": observed_usage(item.get("observed_usage")),
        "credential_type": credential_type,
        "native": item,
    }
    return complete_token(token, document.path, pointer)


def _installation(document: Document, pointer: str, item: dict, org: str, out: Inventory) -> dict | None:
    slug = item.get("app_slug") or str(item.get("app_id"))
    if item.get("suspended_at"):
        out.skipped.append(
            Skipped(PROVIDER, str(item["id"]), slug, "suspended GitHub App installation", document.path, pointer)
        )
        return None
    granted = _permissions(item.get("permissions"))
    resources = _repo_resources(org, item.get("repository_selection"), _repositories(item))
    grants = [{"resource": r, "permissions": granted} for r in resources] if granted else []
    if granted and not resources:
        grants = [{"resource": {"type": "org", "name": org}, "permissions": granted}]
    token = {
        "id": str(item["id"]),
        "provider": PROVIDER,
        "kind": "github_app_installation",
        "name": slug,
        "owner": org,
        "prefix": PREFIXES["github_app_installation"],
        "org_wide": item.get("repository_selection") == "all",
        "grants": grants,
        "created_at": time_at(document, pointer + "/created_at", item.get("created_at")),
        # installation tokens live one hour; the installation itself has no expiry to set
        "expiry_supported": False,
        "orgs": [org],
        "repository_selection": item.get("repository_selection"),
        "native": item,
    }
    return complete_token(token, document.path, pointer)


def token_policy(settings: dict) -> str | None:
    """The org's PAT policy in the normalized vocabulary (docs/inventory/github.md)."""
    classic = settings.get("classic_pats_allowed")
    fine = settings.get("fine_grained_pats_allowed")
    approval = settings.get("fine_grained_pats_require_approval")
    if classic is True:
        return "allow_all"
    if classic is None:
        return None
    if fine is False:
        return "no_personal_tokens"
    if approval is True:
        return "require_approval"
    if approval is False:
        return "fine_grained_without_approval"
    return "fine_grained_only"


class GitHubAdapter:
    provider = PROVIDER
    formats: tuple[str, ...] = (FORMAT,)

    def recognises(self, document: Document) -> bool:
        data = document.data
        if isinstance(data, dict):
            return isinstance(data.get("installations"), list) and "total_count" in data
        if not isinstance(data, list):
            return False
        items = _items(data)
        if not items:  # `[]`, `[[]]`, or `--slurp` pages of an org without installations
            return all(isinstance(p, list) or _is_installations_page(p) for p in data)
        found = _endpoints(items)
        return None not in found and len(found) == 1

    def schema_for(self, document: Document) -> str:
        return SCHEMA

    def normalize(self, document: Document, options: dict) -> Inventory:
        data = document.data
        sections: list[tuple[str, str | None, Any]]  # (wrapper key, endpoint, answer)
        if isinstance(data, dict) and data.get("format") == FORMAT:
            org = data["org"]
            sections = [(key, endpoint, data.get(key)) for key, endpoint in SECTIONS if key in data]
            settings = data.get("org_settings")
            fmt = FORMAT
        else:
            items = _items(data)
            endpoint = next(iter(_endpoints(items)), None)
            org = org_from_path(document.path) or options.get("org")  # the per-file path is the more specific
            if items and not org:
                raise InputError(
                    f"{document.path}: a bare `gh api` export ({endpoint}) does not say its "
                    "organization: pass --org ORG, save it under orgs/ORG/, "
                    "or use the github-inventory/v1 wrapper"
                )
            sections = [("", endpoint, data)] if items else []
            if not items and _empty_endpoint(document):  # an empty export is evidence too
                sections = [("", _empty_endpoint(document), data)]
            settings = None
            fmt = API_FORMAT
        return self._normalize(document, org, sections, settings, options, fmt)

    def _normalize(self, document, org, sections, settings, options, fmt) -> Inventory:
        out = Inventory()
        org_entry = common.org_entry(PROVIDER, org, document)
        when = collected_at(document, options)
        if when:
            org_entry["settings"]["collected_at"] = when
        if settings is not None:
            org_entry["token_policy"] = token_policy(settings)
            org_entry["settings"]["github"] = copy.deepcopy(settings)
            org_entry["source"] = source(document, "/org_settings")
        admins_only = fmt == API_FORMAT and "admin" in PurePath(document.path).stem  # members-admins.json
        given = {
            EVIDENCE[endpoint]
            for key, endpoint, _ in sections
            if endpoint in EVIDENCE and not (endpoint == "members" and (key == "admins" or admins_only))
        }
        if settings is not None:
            given.add("org_policies")
        collection = document.data.get("collection") if isinstance(document.data, dict) else None
        org_entry["evidence"] = evidence.from_sections(evidence.GITHUB, given, collection, COLLECTION_ALIASES)
        tokens = 0
        for key, endpoint, value in sections:
            base = json_pointer.join("", key) if key else ""
            for item, pointer in paged_items(value, base, inner="installations"):
                found = endpoint_of(item)
                if found != endpoint:
                    raise InputError(
                        f"{document.where(pointer)}: expected a {endpoint} object "
                        f"here, found {'a ' + found + ' object' if found else 'an unrecognised object'}"
                    )
                if endpoint == "grants":
                    out.tokens.append(_fine_grained(document, pointer, item, org, "fine_grained_pat"))
                    tokens += 1
                elif endpoint == "requests":
                    request = _fine_grained(document, pointer, item, org, "fine_grained_pat_request")
                    org_entry["settings"].setdefault("pending_requests", []).append(request)
                elif endpoint == "credentials":
                    token = _credential(document, pointer, item, org, out)
                    if token is not None:  # SSH keys are not tokens
                        out.tokens.append(token)
                        tokens += 1
                elif endpoint == "installations":
                    installation = _installation(document, pointer, item, org, out)
                    if installation is not None:
                        org_entry["settings"].setdefault("installations", []).append(installation)
                elif endpoint == "members":
                    org_entry["members"] = sorted(set(org_entry["members"] or []) | {item["login"]})
                    if key == "admins":
                        org_entry["settings"]["admins"] = sorted(
                            set(org_entry["settings"].get("admins", [])) | {item["login"]}
                        )
        if org:
            out.orgs.append(org_entry)
        out.inputs.append(InputSummary(document.path, document.sha256, fmt, PROVIDER, tokens))
        return out


ADAPTER = GitHubAdapter()
