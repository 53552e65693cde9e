"""Hugging Face: `huggingface-inventory/v1` (whoami-v2 answers joined with collector facts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from auditor import evidence, json_pointer
from auditor.inventory.loader import Document
from auditor.model.inventory import InputSummary, Inventory, Skipped, complete_token
from auditor.providers.common import observed_usage, org_entry, source, stored_in, time_at, top_object

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


def _token_like_variables(document: Document, index: int, variables: dict) -> list[str]:
    """Variables of space `index` that hold a token: a value redaction found, or the collector's flag."""
    base = f"/spaces/{index}/variables"
    found = {json_pointer.split(h.pointer)[3] for h in document.secrets if h.pointer.startswith(base + "/")}
    return sorted(
        key
        for key, value in variables.items()
        # `collect huggingface` keeps no variable value, only this flag
        if key in found or (isinstance(value, dict) and value.get("token_like") is True)
    )


def _spaces(document: Document, data: dict, out: Inventory) -> dict[str, bool | None]:
    """Every space as a storage location; returns each space's `private` flag (None: not known)."""
    private_of: dict[str, bool | None] = {}
    for index, space in enumerate(data.get("spaces") or []):
        info = space["info"]
        private = info.get("private")
        private_of[info["id"]] = private
        out.locations.append(
            {
                "provider": PROVIDER,
                "kind": "hf_space",
                "name": info["id"],
                "public": None if private is None else not private,
                "token_like_variables": _token_like_variables(document, index, space.get("variables") or {}),
                "source": source(document, f"/spaces/{index}"),
            }
        )
    return private_of


class _Orgs:
    """Org entries by name, each made on first mention."""

    def __init__(self, document: Document):
        self.document = document
        self.by_name: dict[str, dict] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def entry(self, name: str) -> dict:
        if name not in self.by_name:
            self.by_name[name] = org_entry(PROVIDER, name, self.document)
        return self.by_name[name]

    def read_facts(self, data: dict) -> None:
        """Token policies and members as exported."""
        for index, policy in enumerate(data.get("org_policies") or []):
            entry = self.entry(policy["org"])
            entry["token_policy"] = policy["token_policy"]
            entry["source"] = source(self.document, f"/org_policies/{index}")
        for member in data.get("members") or []:
            entry = self.entry(member["org"])
            if entry["members"] is None:
                entry["members"] = []
            entry["members"].append(member["user"])
        for entry in self.by_name.values():
            if entry["members"] is not None:
                entry["members"] = sorted(set(entry["members"]))

    def add_evidence(self, data: dict) -> None:
        """Which evidence each org's export holds."""
        policies = {p["org"] for p in data.get("org_policies") or []}
        for entry in self.by_name.values():
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

    def sorted(self) -> list[dict]:
        return [self.by_name[name] for name in sorted(self.by_name)]


def _token_orgs(grants: list[dict], approval: dict, orgs: _Orgs) -> list[str]:
    """Orgs a token reaches: granted directly, owning a granted repository (known orgs only), or approving it."""
    named = {g["resource"]["name"] for g in grants if g["resource"]["type"] == "org"}
    owning = {
        g["resource"]["name"].split("/")[0]
        for g in grants
        if "/" in g["resource"]["name"] and g["resource"]["name"].split("/")[0] in orgs
    }
    return sorted(named | owning | set(approval))


def _storage_public(spaces: dict[str, bool | None]) -> Callable[[dict], bool | None]:
    """Whether a storage place is public: known for the export's own spaces only."""

    def public(place: dict) -> bool | None:
        if place["kind"] in SPACE_STORAGE and place["location"] in spaces:
            private = spaces[place["location"]]
            return None if private is None else not private
        return None

    return public


@dataclass(frozen=True)
class Export:
    """What every token of one export is read against: everything in the file but its tokens. The whole-file
    path and the streamed one (auditor/stream.py) both normalize through it: begin, token per entry, finish."""

    document: Document
    account_name: str | None
    account_orgs: list[str]
    orgs: _Orgs
    spaces: dict[str, bool | None]  # space id → private
    usage_evidence: str | None  # whether the export says when tokens were last used
    context: Inventory  # the Spaces as storage locations; orgs and inputs are added by finish

    @classmethod
    def begin(cls, document: Document) -> Export:
        """The export's context from its document; `tokens` is not read (the stream gives it as [])."""
        data = top_object(document)
        context = Inventory()
        orgs = _Orgs(document)
        orgs.read_facts(data)
        account = data.get("account") or {}
        usage = evidence.from_sections({"token_usage": None}, {"token_usage"}, data.get("collection"))
        return cls(
            document=document,
            account_name=account.get("name"),
            account_orgs=sorted(o["name"] for o in account.get("orgs") or []),
            orgs=orgs,
            spaces=_spaces(document, data, context),
            usage_evidence=usage["token_usage"],
            context=context,
        )

    def token(self, pointer: str, item: dict) -> dict | Skipped:
        return _token(self, pointer, item)

    def finish(self, reached_orgs: set[str], entries: int) -> Inventory:
        """The orgs (every org the account or an audited token reaches, made after the tokens so that no token's
        reach depends on it, each saying which evidence was exported), the locations and the input summary."""
        for name in set(self.account_orgs) | reached_orgs:
            self.orgs.entry(name)
        self.orgs.add_evidence(top_object(self.document))
        out = self.context
        out.orgs = self.orgs.sorted()
        out.inputs.append(InputSummary(self.document.path, self.document.sha256, FORMAT, PROVIDER, entries))
        return out


def _token(export: Export, pointer: str, item: dict) -> dict | Skipped:
    """One token entry (whoami-v2 answer and inventory facts), or why it is skipped (revoked)."""
    document = export.document
    facts = item["inventory"]
    access = _access_token(item.get("whoami"))
    kind = _kind(facts)
    owner = facts["owner"]
    name = facts.get("name") or (access or {}).get("displayName")
    if facts.get("revoked"):
        return Skipped(PROVIDER, facts["id"], name, "revoked", document.path, pointer)
    reach_orgs = export.account_orgs if export.account_name == owner else []
    if kind == "org_api_token":
        reach_orgs = [owner]
    grants, global_permissions, legacy = _grants(access, owner, reach_orgs)
    if kind == "org_api_token":
        grants = [g for g in grants if g["resource"]["type"] == "org"] or grants
    approval = dict(sorted((facts.get("org_approval_status") or {}).items()))
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
        "orgs": _token_orgs(grants, approval, export.orgs),
        "approval": approval,
        "stored_in": stored_in(facts.get("stored_in"), public=_storage_public(export.spaces)),
        "observed_usage": observed_usage(facts.get("observed_usage"), field="entity"),
        "native": {"role": (access or {}).get("role"), "fineGrained": (access or {}).get("fineGrained")},
    }
    if export.usage_evidence != evidence.PRESENT:
        # The collector could not see last use (whoami-v2 does not say): unknown, not "never used",
        # unless the token's last_used_at was copied in by hand (null there does mean never used).
        token["evidence"] = {"token_usage": evidence.PRESENT if "last_used_at" in facts else export.usage_evidence}
    return complete_token(token, document.path, pointer)


class HuggingFaceAdapter:
    provider = PROVIDER
    formats: tuple[str, ...] = (FORMAT,)

    def recognises(self, document: Document) -> bool:
        return False  # always declares its format

    def schema_for(self, document: Document) -> str:
        return "huggingface-inventory.v1"

    def normalize(self, document: Document, options: dict) -> Inventory:
        export = Export.begin(document)
        tokens: list[dict] = []
        skipped: list[Skipped] = []
        entries = top_object(document).get("tokens") or []
        for index, item in enumerate(entries):
            token = export.token(f"/tokens/{index}", item)
            if isinstance(token, Skipped):
                skipped.append(token)
            else:
                tokens.append(token)
        out = export.finish({o for t in tokens for o in t["orgs"]}, len(entries))
        out.tokens, out.skipped = tokens, skipped
        return out


ADAPTER = HuggingFaceAdapter()
