"""The provider-neutral `token-inventory/v1`: already the normalized model, so little to do."""

from __future__ import annotations

import copy

from auditor.inventory.loader import Document
from auditor.model.inventory import InputSummary, Inventory, Skipped, complete_token
from auditor.providers.common import org_defaults, source, time_at, top_object

FORMAT = "token-inventory/v1"


def normalize_token(document: Document, pointer: str, token: dict) -> dict | Skipped:
    """One token entry (changed in place), or why it is not audited. Also used by the streaming pipeline."""
    if token.get("active") is False:
        return Skipped(
            token["provider"], token["id"], token.get("name"), "inactive (revoked or disabled)", document.path, pointer
        )
    for field in ("created_at", "expires_at", "last_used_at"):
        token[field] = time_at(document, f"{pointer}/{field}", token.get(field))
    token.setdefault("native", {})
    return complete_token(token, document.path, pointer)


class NeutralAdapter:
    provider = "any"
    formats: tuple[str, ...] = (FORMAT,)

    def recognises(self, document: Document) -> bool:
        return False

    def schema_for(self, document: Document) -> str:
        return "token-inventory.v1"

    def normalize(self, document: Document, options: dict) -> Inventory:
        data = top_object(document)
        out = Inventory()
        for index, raw in enumerate(data.get("tokens") or []):
            normalized = normalize_token(document, f"/tokens/{index}", copy.deepcopy(raw))
            if isinstance(normalized, Skipped):
                out.skipped.append(normalized)
            else:
                out.tokens.append(normalized)
        for index, org in enumerate(data.get("orgs") or []):
            entry = {**org_defaults(), **copy.deepcopy(org)}
            if entry["members"] is not None:
                entry["members"] = sorted(set(entry["members"]))
            entry["source"] = source(document, f"/orgs/{index}")
            # The file states membership and token policy per org; `evidence`, when given, says it outright.
            entry.setdefault(
                "evidence",
                {
                    "members": "present" if entry["members"] is not None else "missing",
                    "org_policies": "present" if entry["token_policy"] else "missing",
                },
            )
            out.orgs.append(entry)
        for index, location in enumerate(data.get("locations") or []):
            entry = {"provider": None, "public": None, "token_like_variables": [], **copy.deepcopy(location)}
            entry["source"] = source(document, f"/locations/{index}")
            out.locations.append(entry)
        providers = sorted({t["provider"] for t in data.get("tokens") or []}) or ["any"]
        out.inputs.append(
            InputSummary(document.path, document.sha256, FORMAT, ",".join(providers), len(data.get("tokens") or []))
        )
        return out


ADAPTER = NeutralAdapter()
