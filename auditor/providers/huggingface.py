"""Hugging Face: `huggingface-inventory/v1` (whoami-v2 answers joined with collector facts)."""

from __future__ import annotations

from auditor import evidence
from auditor.inventory.loader import Document
from auditor.model.inventory import InputSummary, Inventory, Skipped, complete_token
from auditor.providers import time_at

PROVIDER = "huggingface"
FORMAT = "huggingface-inventory/v1"
KIND_PREFIX = {
    "user_access_token": "hf_",
    "org_api_token": "api_org_",
    "oauth_token_exchange": "hf_oauth_",
    "service_account_token": "hf_",
}
# The Hub lets only OAuth exchanges expire; other tokens live until revoked.
EXPIRING_KINDS = {"oauth_token_exchange"}
SPACE_STORAGE = {"hf_space_secret", "hf_space_variable"}
ROLE_LEVELS = {"read": "read", "write": "write", "contributor": "write", "god": "write", "admin": "admin"}


def _access_token(whoami) -> dict | None:
    if not isinstance(whoami, dict):
        return None
    auth = whoami.get("auth", whoami)
    return auth.get("accessToken") if isinstance(auth, dict) else None


def _kind(inventory: dict) -> str:
    if inventory.get("kind"):
        return inventory["kind"]
    prefix = inventory.get("prefix") or ""
    if prefix.startswith("api_org_"):
        return "org_api_token"
    if prefix.startswith("hf_oauth_"):
        return "oauth_token_exchange"
    return "user_access_token"


def _grants(access: dict | None, owner: str, account_orgs: list[str]) -> tuple[list[dict], list[str], bool]:
    """(grants, global permissions, legacy) from the whoami accessToken object."""
    if access is None:
        return [], [], False
    role = access.get("role")
    # whoami-v2 roles besides fineGrained: read and write (user tokens), admin, write, contributor and
    # read (org API tokens, by the org role; huggingface.js AccessTokenRole), god (internal, write-like)
    if role in ROLE_LEVELS:
        level = ROLE_LEVELS[role]
        reach = [{"type": "user", "name": owner}] + [{"type": "org", "name": org} for org in account_orgs]
        return [{"resource": r, "permissions": [f"role.{level}"]} for r in reach], [], True
    fine = access.get("fineGrained") or {}
    grants = [
        {
            "resource": {"type": item["entity"]["type"], "name": item["entity"]["name"]},
            "permissions": sorted(set(item.get("permissions") or [])),
        }
        for item in fine.get("scoped") or []
    ]
    global_permissions = sorted(set(fine.get("global") or []))
    if fine.get("canReadGatedRepos"):
        global_permissions.append("gated.read")
    return grants, global_permissions, False


class HuggingFaceAdapter:
    provider = PROVIDER
    formats = (FORMAT,)

    def recognises(self, document: Document) -> bool:
        return False  # always declares its format

    def schema_for(self, document: Document) -> str:
        return "huggingface-inventory.v1"

    def normalize(self, document: Document, options: dict) -> Inventory:
        data = document.data
        out = Inventory()
        account = data.get("account") or {}
        account_orgs = sorted(o["name"] for o in account.get("orgs") or [])
        spaces = {}
        for index, space in enumerate(data.get("spaces") or []):
            info = space["info"]
            private = info.get("private")
            variables = space.get("variables") or {}
            token_like = sorted(
                key
                for key in variables
                if any(
                    h.pointer.startswith(f"/spaces/{index}/variables/") and h.pointer.split("/")[4] == key
                    for h in document.secrets
                )
                # `collect huggingface` keeps no variable value, only this flag
                or (isinstance(variables[key], dict) and variables[key].get("token_like") is True)
            )
            spaces[info["id"]] = private
            out.locations.append(
                {
                    "provider": PROVIDER,
                    "kind": "hf_space",
                    "name": info["id"],
                    "public": None if private is None else not private,
                    "token_like_variables": token_like,
                    "source": {"file": document.path, "pointer": f"/spaces/{index}"},
                }
            )
        orgs: dict[str, dict] = {}

        def org(name: str) -> dict:
            return orgs.setdefault(
                name,
                {
                    "provider": PROVIDER,
                    "name": name,
                    "token_policy": None,
                    "members": None,
                    "settings": {},
                    "source": {"file": document.path, "pointer": ""},
                },
            )

        for index, policy in enumerate(data.get("org_policies") or []):
            entry = org(policy["org"])
            entry["token_policy"] = policy["token_policy"]
            entry["source"] = {"file": document.path, "pointer": f"/org_policies/{index}"}
        for member in data.get("members") or []:
            entry = org(member["org"])
            if entry["members"] is None:
                entry["members"] = []
            entry["members"].append(member["user"])
        for entry in orgs.values():
            if entry["members"] is not None:
                entry["members"] = sorted(set(entry["members"]))

        usage_unknown = evidence.from_sections({"token_usage": None}, {"token_usage"}, data.get("collection"))
        for index, item in enumerate(data.get("tokens") or []):
            pointer = f"/tokens/{index}"
            facts = item["inventory"]
            access = _access_token(item.get("whoami"))
            kind = _kind(facts)
            owner = facts["owner"]
            name = facts.get("name") or (access or {}).get("displayName")
            if facts.get("revoked"):
                out.skipped.append(Skipped(PROVIDER, facts["id"], name, "revoked", document.path, pointer))
                continue
            reach_orgs = account_orgs if account.get("name") == owner else []
            if kind == "org_api_token":
                reach_orgs = [owner]
            grants, global_permissions, legacy = _grants(
                access, owner if kind != "org_api_token" else owner, reach_orgs
            )
            if kind == "org_api_token":
                grants = [g for g in grants if g["resource"]["type"] == "org"] or grants
            approval = {k: v for k, v in sorted((facts.get("org_approval_status") or {}).items())}
            token_orgs = sorted(
                {g["resource"]["name"] for g in grants if g["resource"]["type"] == "org"}
                | {
                    g["resource"]["name"].split("/")[0]
                    for g in grants
                    if "/" in g["resource"]["name"] and g["resource"]["name"].split("/")[0] in orgs
                }
                | set(approval)
            )
            stored_in = []
            for place in facts.get("stored_in") or []:
                public = None
                if place["kind"] in SPACE_STORAGE and place["location"] in spaces:
                    private = spaces[place["location"]]
                    public = None if private is None else not private
                stored_in.append(
                    {"kind": place["kind"], "location": place["location"], "key": place.get("key"), "public": public}
                )
            usage = [
                {
                    "resource": {"type": u["entity"]["type"], "name": u["entity"]["name"]},
                    "actions": sorted(set(u["actions"])),
                }
                for u in facts.get("observed_usage") or []
            ]
            token = {
                "id": facts["id"],
                "provider": PROVIDER,
                "kind": kind,
                "name": name,
                "owner": owner,
                "prefix": facts.get("prefix") or KIND_PREFIX.get(kind),
                "last4": facts.get("last4"),
                "legacy": legacy,
                "org_wide": kind == "org_api_token",
                "grants": grants,
                "global_permissions": global_permissions,
                "scopes": [],
                "created_at": time_at(
                    document,
                    f"{pointer}/inventory/created_at",
                    facts.get("created_at") or (access or {}).get("createdAt"),
                ),
                "expires_at": time_at(document, f"{pointer}/inventory/expires_at", facts.get("expires_at")),
                "last_used_at": time_at(document, f"{pointer}/inventory/last_used_at", facts.get("last_used_at")),
                "expiry_supported": kind in EXPIRING_KINDS,
                "active": True,
                "introspected": access is not None,
                "orgs": token_orgs,
                "approval": approval,
                "stored_in": stored_in,
                "observed_usage": usage,
                "native": {"role": (access or {}).get("role"), "fineGrained": (access or {}).get("fineGrained")},
            }
            if usage_unknown["token_usage"] != evidence.PRESENT:
                # The collector could not see last use (whoami-v2 does not say): unknown, not "never used",
                # unless the token's last_used_at was copied in by hand (null there does mean never used).
                token["evidence"] = {
                    "token_usage": evidence.PRESENT if "last_used_at" in facts else usage_unknown["token_usage"]
                }
            out.tokens.append(complete_token(token, document.path, pointer))
        # Every organization the account or a token reaches gets an entry saying which evidence was exported
        # (created after the tokens, so that no token's reach depends on it).
        for name in set(account_orgs) | {o for t in out.tokens for o in t["orgs"]}:
            org(name)
        policies = {p["org"] for p in data.get("org_policies") or []}
        for entry in orgs.values():
            given = {
                kind
                for kind, present in (
                    ("members", entry["members"]),
                    ("org_policies", entry["name"] in policies),
                    ("spaces", "spaces" in data),
                )
                if present
            }
            entry["evidence"] = evidence.from_sections(evidence.HUGGINGFACE, given, data.get("collection"))
        out.orgs = [orgs[name] for name in sorted(orgs)]
        out.inputs.append(InputSummary(document.path, document.sha256, FORMAT, PROVIDER, len(data.get("tokens") or [])))
        return out


ADAPTER = HuggingFaceAdapter()
