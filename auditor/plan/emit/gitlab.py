"""GitLab requests (REST API v4).

- Personal access token for a user (administrators): POST /users/:user_id/personal_access_tokens
  {name, description, expires_at, scopes}. https://docs.gitlab.com/api/user_tokens/#create-a-personal-access-token-for-a-user
  (others create their own in User settings → Access tokens).
- Group / project access token: POST /groups/:id/access_tokens, POST /projects/:id/access_tokens
  {name, description, scopes, access_level, expires_at}. https://docs.gitlab.com/api/group_access_tokens/
  https://docs.gitlab.com/api/project_access_tokens/
- Check usage: GET on the token's path answers its last_used_at.
- Self-rotation of a token with scope self_rotate: POST /personal_access_tokens/self/rotate,
  /groups/:id/access_tokens/self/rotate, /projects/:id/access_tokens/self/rotate (gitlab-org/gitlab#462419).
- Rotate: POST /personal_access_tokens/:id/rotate, /groups/:id/access_tokens/:token_id/rotate,
  /projects/:id/access_tokens/:token_id/rotate {expires_at}. Revoke: DELETE on the same token paths.
  https://docs.gitlab.com/api/personal_access_tokens/
"""

from __future__ import annotations

from urllib.parse import quote

from auditor.plan.emit import step_of

DOCS = {
    "personal_access_token": "https://docs.gitlab.com/api/personal_access_tokens/",
    "group_access_token": "https://docs.gitlab.com/api/group_access_tokens/",
    "project_access_token": "https://docs.gitlab.com/api/project_access_tokens/",
}
DOC_USER_TOKENS = "https://docs.gitlab.com/api/user_tokens/#create-a-personal-access-token-for-a-user"
AUTH = {
    "variable": "GITLAB_TOKEN",
    "needs": "a token of a group/project Owner or Maintainer (personal tokens "
    "of other users: an administrator) with scope api",
}


def _base(token: dict) -> str:
    host = (token.get("orgs") or ["gitlab.com"])[0]
    return f"https://{host}/api/v4"


def _path(token: dict) -> str | None:
    """URL-encoded group or project path of a group/project token (its grant's resource)."""
    for grant in token.get("grants") or []:
        resource = grant.get("resource") or {}
        if resource.get("type") in ("group", "project"):
            return quote(resource["name"], safe="")
    return None


def _token_url(token: dict) -> str:
    kind, base = token.get("kind"), _base(token)
    if kind == "group_access_token":
        return f"{base}/groups/{_path(token)}/access_tokens/{token.get('id')}"
    if kind == "project_access_token":
        return f"{base}/projects/{_path(token)}/access_tokens/{token.get('id')}"
    return f"{base}/personal_access_tokens/{token.get('id')}"


def _create(plan: dict, token: dict, credential: dict) -> dict:
    kind, base = credential["type"], _base(token)
    body = {
        "name": credential["name"],
        "description": f"Replaces {token.get('masked') or token.get('id')} (token-auditor plan {credential['id']})",
        "scopes": credential.get("scopes") or [],
        "expires_at": credential.get("expires_at"),
    }
    if kind in ("group_access_token", "project_access_token"):
        body["access_level"] = credential.get("access_level") if credential.get("access_level") is not None else 20
        url = f"{base}/{'groups' if kind == 'group_access_token' else 'projects'}/{_path(token)}/access_tokens"
        doc = DOCS[kind]
        variables = {}
    else:
        url = f"{base}/users/${{GITLAB_USER_ID}}/personal_access_tokens"
        doc = DOC_USER_TOKENS
        variables = {"GITLAB_USER_ID": f"the numeric GitLab user id of {token.get('owner')}"}
    request = {
        "step": step_of(plan, "create", credential["id"]),
        "purpose": "create",
        "credential": credential["id"],
        "kind": "api",
        "method": "POST",
        "url": url,
        "headers": {"Content-Type": "application/json"},
        "auth": AUTH,
        "body": body,
        "doc": doc,
    }
    if variables:
        request["variables"] = variables
    if "self_rotate" in body["scopes"]:
        where = {
            "group_access_token": f"groups/{_path(token)}/access_tokens",
            "project_access_token": f"projects/{_path(token)}/access_tokens",
        }.get(kind, "personal_access_tokens")
        request["note"] = (
            f"before it expires, the new token rotates itself (scope self_rotate): POST {base}/{where}/self/rotate"
        )
    return request


def requests(plan: dict, token: dict, catalogue, now: str) -> list[dict]:
    out = [_create(plan, token, c) for c in plan["credentials"]]
    kind: str = token.get("kind") or "personal_access_token"
    rotate = step_of(plan, "rotate")
    if rotate is not None:
        from auditor.plan.build import _date

        out.append(
            {
                "step": rotate,
                "purpose": "rotate",
                "kind": "api",
                "method": "POST",
                "url": f"{_token_url(token)}/rotate",
                "headers": {"Content-Type": "application/json"},
                "auth": AUTH,
                "body": {"expires_at": _date(now, catalogue.lifetime_days)},
                "doc": DOCS.get(kind, DOCS["personal_access_token"]),
            }
        )
    verify = step_of(plan, "verify")
    if verify is not None:
        out.append(
            {
                "step": verify,
                "purpose": "verify",
                "kind": "api",
                "method": "GET",
                "url": _token_url(token),
                "headers": {},
                "auth": AUTH,
                "body": None,
                "doc": DOCS.get(kind, DOCS["personal_access_token"]),
                "note": "last_used_at must stay before the new credentials went in",
            }
        )
    revoke = step_of(plan, "revoke")
    if revoke is not None:
        out.append(
            {
                "step": revoke,
                "purpose": "revoke",
                "kind": "api",
                "method": "DELETE",
                "url": _token_url(token),
                "headers": {},
                "auth": AUTH,
                "body": None,
                "doc": DOCS.get(kind, DOCS["personal_access_token"]),
            }
        )
    return out
