"""Hugging Face: the Hub has no API to create or delete user access tokens, so every request is a settings page
with every field spelled out.

- New fine-grained token: https://huggingface.co/settings/tokens/new?tokenType=fineGrained
  https://huggingface.co/docs/hub/security-tokens
- A user deletes (or rotates) their own tokens at https://huggingface.co/settings/tokens with the Manage button.
- Organization admins (Team & Enterprise) see and revoke the tokens that reach the organization at
  https://huggingface.co/organizations/{org}/settings/tokens-management
  https://huggingface.co/docs/hub/enterprise-hub-tokens-management
- Organization API tokens (api_org_…) are deprecated (docs above); they are revoked in the organization's settings.
- Service-account tokens are created and revoked in the organization's settings (Enterprise).
"""

from __future__ import annotations

from auditor.plan.emit import step_of

NEW = "https://huggingface.co/settings/tokens/new?tokenType=fineGrained"
DOC = "https://huggingface.co/docs/hub/security-tokens"
DOC_ORG = "https://huggingface.co/docs/hub/enterprise-hub-tokens-management"


def _org(token: dict) -> str | None:
    if token.get("kind") in ("org_api_token", "service_account_token"):
        return token.get("owner")
    return (token.get("orgs") or [None])[0]


def requests(plan: dict, token: dict, catalogue, now: str) -> list[dict]:
    out = []
    for credential in plan["credentials"]:
        fields = {"Token type": "Fine-grained", "Token name": credential["name"]}
        for index, scoped in enumerate(credential.get("scoped") or [], start=1):
            entity = scoped.get("entity") or {}
            fields[f"Repositories permissions #{index}"] = f"{entity.get('type')} {entity.get('name')}: " + ", ".join(
                scoped.get("permissions") or []
            )
        if credential.get("global"):
            fields["User permissions"] = ", ".join(credential["global"])
        fields["Read access to contents of all public gated repos you can access"] = "off"
        url = NEW
        if credential["type"] == "service_account_token" and _org(token):
            url = f"https://huggingface.co/organizations/{_org(token)}/settings"
            fields["Where"] = "Service accounts: create the token for the service account"
        out.append(
            {
                "step": step_of(plan, "create", credential["id"]),
                "purpose": "create",
                "credential": credential["id"],
                "kind": "settings",
                "url": url,
                "fields": fields,
                "doc": DOC,
            }
        )
    for purpose in ("revoke", "rotate"):
        step = step_of(plan, purpose)
        if step is None:
            continue
        kind, org = token.get("kind"), _org(token)
        if kind in ("org_api_token", "service_account_token") and org:
            url, doc = f"https://huggingface.co/organizations/{org}/settings", DOC_ORG
        else:
            url, doc = "https://huggingface.co/settings/tokens", DOC
        fields = {
            "Token": f"{token.get('name') or token.get('id')} ({token.get('masked')})",
            "Action": "Manage → Delete" if purpose == "revoke" else "Manage → rotate (invalidate and refresh)",
        }
        out.append({"step": step, "purpose": purpose, "kind": "settings", "url": url, "fields": fields, "doc": doc})
        if purpose == "revoke" and org and kind not in ("org_api_token", "service_account_token"):
            out.append(
                {
                    "step": step,
                    "purpose": purpose,
                    "kind": "settings",
                    "url": f"https://huggingface.co/organizations/{org}/settings/tokens-management",
                    "fields": {"Token": fields["Token"], "Action": "Revoke (organization admin, Team & Enterprise)"},
                    "doc": DOC_ORG,
                }
            )
    return out
