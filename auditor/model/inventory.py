"""The normalized inventory: tokens, organizations, storage locations and found secrets.

Tokens are plain dicts shaped by `token-inventory.v1.json` (the documented model): that is what the
Rego policies receive as `input.tokens`, so keeping them as dicts avoids a copy per token.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from auditor import evidence

TOKEN_DEFAULTS: dict[str, object] = {
    "kind": "token",
    "name": None,
    "prefix": None,
    "last4": None,
    "legacy": False,
    "org_wide": False,
    "grants": [],
    "global_permissions": [],
    "scopes": [],
    "created_at": None,
    "expires_at": None,
    "last_used_at": None,
    "expiry_supported": True,
    "active": True,
    "orgs": [],
    "approval": {},
    "stored_in": [],
    "observed_usage": [],
}


def token_key(provider: str, kind: str, token_id: str) -> str:
    """Identity of a token: ids are unique only per provider and kind."""
    return f"{provider}:{kind}:{token_id}"


def masked(prefix: str | None, last4: str | None) -> str | None:
    """`hf_…c90d`: enough to recognise a token, nothing to use it with."""
    if not prefix and not last4:
        return None
    return f"{prefix or ''}…{last4 or ''}"


def complete_token(token: dict, file: str, pointer: str) -> dict:
    """Fill defaults, identity and source of a normalized token (in place) and return it."""
    for key, default in TOKEN_DEFAULTS.items():
        if token.get(key) is None:
            token[key] = type(default)() if isinstance(default, (list, dict)) else default
    token["key"] = token_key(token["provider"], token["kind"], token["id"])
    token["masked"] = masked(token.get("prefix"), token.get("last4"))
    token["source"] = {"file": file, "pointer": pointer}
    return token


@dataclass(frozen=True)
class Skipped:
    """An input item that was not audited, and why."""

    provider: str
    id: str
    name: str | None
    reason: str
    file: str
    pointer: str

    def as_dict(self) -> dict:
        return {
            "provider": self.provider,
            "id": self.id,
            "name": self.name,
            "reason": self.reason,
            "source": {"file": self.file, "pointer": self.pointer},
        }


@dataclass(frozen=True)
class InputSummary:
    """One input file as the report lists it."""

    path: str
    sha256: str
    format: str
    provider: str
    tokens: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Inventory:
    """Everything the policies evaluate, merged over all inputs."""

    tokens: list[dict] = field(default_factory=list)
    orgs: list[dict] = field(default_factory=list)
    locations: list[dict] = field(default_factory=list)
    secrets: list[dict] = field(default_factory=list)  # SecretHit.as_input() plus the token it sits in
    skipped: list[Skipped] = field(default_factory=list)
    inputs: list[InputSummary] = field(default_factory=list)

    def merge(self, other: Inventory) -> None:
        # identity: what makes two listings one token (GitLab lists a bot's token as a personal one
        # too). Listings of equal identity_priority are one token only under the same key; otherwise
        # the higher priority is audited and the other skipped.
        seen: dict[str, list[dict]] = {}
        for token in self.tokens:
            seen.setdefault(token.get("identity", token["key"]), []).append(token)
        for token in other.tokens:
            peers = seen.setdefault(token.get("identity", token["key"]), [])
            rank = token.get("identity_priority", 0)
            first = next((t for t in peers if t["key"] == token["key"] or t.get("identity_priority", 0) != rank), None)
            if first is None:
                peers.append(token)
                self.tokens.append(token)
                continue
            kept, dropped = first, token
            if rank > first.get("identity_priority", 0):
                kept, dropped = token, first
                self.tokens[self.tokens.index(first)] = token
                peers[peers.index(first)] = token
            where = kept["source"]
            reason = (
                kept.get("duplicate_reason", "duplicate of the token")
                if kept["key"] != dropped["key"]
                else "duplicate of the token"
            )
            self.skipped.append(
                Skipped(
                    dropped["provider"],
                    dropped["id"],
                    dropped.get("name"),
                    f"{reason} at {where['file']}#{where['pointer']}",
                    dropped["source"]["file"],
                    dropped["source"]["pointer"],
                )
            )
        orgs = {(o["provider"], o["name"]): o for o in self.orgs}
        for org in other.orgs:
            known = orgs.get((org["provider"], org["name"]))
            if known is None:
                orgs[(org["provider"], org["name"])] = org
                self.orgs.append(org)
                continue
            if org.get("evidence"):
                known["evidence"] = evidence.merge(dict(known.get("evidence") or {}), org["evidence"])
            if org.get("members") is not None:
                known["members"] = sorted(set(known.get("members") or []) | set(org["members"]))
            if org.get("token_policy") and not known.get("token_policy"):
                known["token_policy"] = org["token_policy"]
            settings = known.setdefault("settings", {})
            for key, value in (org.get("settings") or {}).items():
                # lists of keyed items (GitHub pending requests, installations) from several files add up
                if isinstance(value, list) and isinstance(settings.get(key), list):
                    if all(isinstance(i, str) for i in settings[key] + value):
                        settings[key] = sorted(set(settings[key]) | set(value))
                    else:
                        have = {item.get("key") for item in settings[key] if isinstance(item, dict)}
                        settings[key] = settings[key] + [
                            i for i in value if not (isinstance(i, dict) and i.get("key") in have)
                        ]
                else:
                    settings[key] = value
        locations = {(loc.get("provider"), loc["kind"], loc["name"]) for loc in self.locations}
        for location in other.locations:
            if (location.get("provider"), location["kind"], location["name"]) not in locations:
                self.locations.append(location)
        self.secrets.extend(other.secrets)
        self.skipped.extend(other.skipped)
        self.inputs.extend(other.inputs)

    @property
    def total_tokens(self) -> int:
        return len(self.tokens) + sum(1 for s in self.skipped if s.reason != "not a token")

    def policy_input(
        self, now: str, config: dict | None = None, tokens: list[dict] | None = None, with_global: bool = True
    ) -> dict:
        """The OPA input document: a chunk of tokens plus the context every rule may look up."""
        document: dict[str, object] = {
            "now": now,
            "tokens": self.tokens if tokens is None else tokens,
            "orgs": self.orgs,
            "locations": self.locations if with_global else [],
            "secrets": self.secrets if with_global else [],
        }
        if config:
            document["config"] = config
        return document
