"""GitHub requests.

- Revoke fine-grained PAT grants in an organization: POST /orgs/{org}/personal-access-tokens with
  {"action": "revoke", "pat_ids": [...]}; only GitHub App installation tokens with the organization permission
  "Personal access tokens" (write) may call it.
  https://docs.github.com/en/rest/orgs/personal-access-tokens#update-the-access-to-organization-resources-via-fine-grained-personal-access-tokens
  https://docs.github.com/en/organizations/managing-programmatic-access-to-your-organization/reviewing-and-revoking-personal-access-tokens-in-your-organization
- Deny a request: POST /orgs/{org}/personal-access-token-requests/{pat_request_id} {"action": "deny", "reason"}.
  https://docs.github.com/en/rest/orgs/personal-access-tokens#review-a-request-to-access-organization-resources-with-a-fine-grained-personal-access-token
- Remove a credential's SAML SSO authorization: DELETE /orgs/{org}/credential-authorizations/{credential_id}.
  https://docs.github.com/en/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization
- New fine-grained PAT: https://github.com/settings/personal-access-tokens/new (GitHub removed the documentation of
  URL pre-filling as broken, github/docs PR 44419, so every field is spelled out instead of put in the URL).
- GitHub App registration from a manifest (name, url, public, default_permissions):
  https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
"""

from __future__ import annotations

from auditor.plan.emit import step_of

API = "https://api.github.com"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
LEVEL_TEXT = {"read": "Read-only", "write": "Read and write", "admin": "Admin"}
DOC_REVOKE = (
    "https://docs.github.com/en/rest/orgs/personal-access-tokens"
    "#update-the-access-to-organization-resources-via-fine-grained-personal-access-tokens"
)
DOC_DENY = (
    "https://docs.github.com/en/rest/orgs/personal-access-tokens"
    "#review-a-request-to-access-organization-resources-with-a-fine-grained-personal-access-token"
)
DOC_SSO = "https://docs.github.com/en/rest/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization"
DOC_PAT = (
    "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/"
    "managing-your-personal-access-tokens#creating-a-fine-grained-personal-access-token"
)
DOC_MANIFEST = "https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest"
APP_AUTH = {
    "variable": "GITHUB_APP_INSTALLATION_TOKEN",
    "needs": "a GitHub App installation token of the organization with organization permission "
    "organization_personal_access_tokens: write (these endpoints refuse personal tokens)",
}
APP_AUTH_REQUESTS = {
    "variable": "GITHUB_APP_INSTALLATION_TOKEN",
    "needs": "a GitHub App installation token of the organization with organization permission "
    "organization_personal_access_token_requests: write",
}
OWNER_AUTH = {"variable": "GITHUB_TOKEN", "needs": "an organization owner's token (classic: admin:org)"}


def _org(token: dict) -> str:
    return (token.get("orgs") or [token.get("owner")])[0]


def requests(plan: dict, token: dict, catalogue, now: str) -> list[dict]:
    out = []
    org = _org(token)
    for credential in plan["credentials"]:
        step = step_of(plan, "create", credential["id"])
        if credential["type"] == "github_app":
            out.append(_app(credential, step))
        elif credential["type"] == "classic_pat":
            out.append(_classic(credential, step))
        else:
            out.append(_pat(credential, step))
    kind, action = token.get("kind"), plan["action"]
    if action == "deny":
        out.append(
            {
                "step": step_of(plan, "deny"),
                "purpose": "deny",
                "kind": "api",
                "method": "POST",
                "url": f"{API}/orgs/{org}/personal-access-token-requests/{_native_id(token)}",
                "headers": HEADERS,
                "auth": APP_AUTH_REQUESTS,
                "body": {"action": "deny", "reason": "Request only the repositories and permissions the job needs"},
                "doc": DOC_DENY,
            }
        )
    elif action == "restrict-app":
        out.append(
            {
                "step": step_of(plan, "restrict"),
                "purpose": "restrict",
                "kind": "settings",
                "url": (
                    f"https://github.com/organizations/{org}/settings/installations"
                    if kind == "github_app_installation"
                    else f"https://github.com/organizations/{org}/settings/oauth_application_policy"
                ),
                "fields": {"Repository access": "Only select repositories (those the app needs)"}
                if kind == "github_app_installation"
                else {"Third-party application access policy": "Access restricted; approve only the apps in use"},
                "doc": "https://docs.github.com/en/organizations/managing-oauth-access-to-your-organizations-data",
            }
        )
        if kind in ("oauth_app_token", "github_app_user_token"):
            out.append(_sso(plan, org, token, "restrict"))
    revoke = step_of(plan, "revoke")
    if revoke is not None:
        if kind == "fine_grained_pat":
            out.append(
                {
                    "step": revoke,
                    "purpose": "revoke",
                    "kind": "api",
                    "method": "POST",
                    "url": f"{API}/orgs/{org}/personal-access-tokens",
                    "headers": HEADERS,
                    "auth": APP_AUTH,
                    "body": {"action": "revoke", "pat_ids": [_native_id(token)]},
                    "doc": DOC_REVOKE,
                }
            )
        else:
            out.append(
                {
                    "step": revoke,
                    "purpose": "revoke",
                    "kind": "settings",
                    "url": "https://github.com/settings/tokens",
                    "fields": {
                        "Token": f"{token.get('name') or token.get('id')} ({token.get('masked')})",
                        "Action": f"Delete (by its owner {token.get('owner')})",
                    },
                    "doc": DOC_PAT.split("#")[0] + "#deleting-a-personal-access-token",
                }
            )
            out.append(_sso(plan, org, token, "revoke"))
    return out


def _native_id(token: dict):
    """The id the org endpoints take: the grant's (or request's) `id`, kept as revoke_id; else the token id."""
    value = token.get("revoke_id", token.get("id"))
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _sso(plan: dict, org: str, token: dict, purpose: str) -> dict:
    return {
        "step": step_of(plan, purpose),
        "purpose": purpose,
        "kind": "api",
        "method": "DELETE",
        "url": f"{API}/orgs/{org}/credential-authorizations/{token.get('id')}",
        "headers": HEADERS,
        "auth": OWNER_AUTH,
        "body": None,
        "doc": DOC_SSO,
        "note": "removes the token's SSO authorization for the organization; only its owner can delete it",
    }


def _permission_fields(credential: dict) -> dict:
    return {
        f"{group.capitalize()} permissions": {
            name: LEVEL_TEXT.get(level, level) for name, level in sorted(perms.items())
        }
        for group, perms in sorted((credential.get("permissions") or {}).items())
    }


def _pat(credential: dict, step: int | None) -> dict:
    repositories = credential.get("repositories") or []
    fields = {
        "Token name": credential["name"],
        "Resource owner": credential.get("resource_owner"),
        "Expiration": f"Custom: {credential.get('expires_at')}",
        "Description": f"Replaces a broader token (token-auditor plan {credential['id']})",
        "Repository access": ("Only select repositories: " + ", ".join(repositories))
        if repositories
        else "Only select repositories: (the ones the owner names)",
        **_permission_fields(credential),
    }
    return {
        "step": step,
        "purpose": "create",
        "credential": credential["id"],
        "kind": "settings",
        "url": "https://github.com/settings/personal-access-tokens/new",
        "fields": fields,
        "doc": DOC_PAT,
    }


def _classic(credential: dict, step: int | None) -> dict:
    """Where only a classic token works (GitHub Packages registries): the fewest scopes, an expiry."""
    return {
        "step": step,
        "purpose": "create",
        "credential": credential["id"],
        "kind": "settings",
        "url": "https://github.com/settings/tokens/new",
        "fields": {
            "Note": credential["name"],
            "Expiration": f"Custom: {credential.get('expires_at')}",
            "Select scopes": ", ".join(credential.get("scopes") or []),
        },
        "doc": DOC_PAT.split("#")[0] + "#creating-a-personal-access-token-classic",
    }


def _app(credential: dict, step: int | None) -> dict:
    org = credential.get("installed_on")
    default_permissions = {
        name: level for perms in (credential.get("permissions") or {}).values() for name, level in sorted(perms.items())
    }
    manifest = {
        "name": credential["name"],
        "url": f"https://github.com/{org}",
        "public": False,
        "default_permissions": dict(sorted(default_permissions.items())),
    }
    return {
        "step": step,
        "purpose": "create",
        "credential": credential["id"],
        "kind": "settings",
        "url": f"https://github.com/organizations/{org}/settings/apps/new",
        "fields": {
            "GitHub App name": credential["name"],
            "Webhook": "Active: off",
            "Where can this GitHub App be installed?": "Only on this account",
            **_permission_fields(credential),
            "Install on": f"{org}, Only select repositories: "
            + (", ".join(credential.get("repositories") or []) or "(the ones the owner names)"),
        },
        "manifest": manifest,
        "doc": DOC_MANIFEST,
    }
