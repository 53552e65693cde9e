"""`token-auditor diff BASE HEAD`: what a change to an exported inventory does to token access.

Works on the normalized model (every provider): tokens are matched by key (provider:kind:id); each
difference is one change classified `broader`, `narrower` or `neutral`. Findings of both sides are
compared by fingerprint: introduced by HEAD, resolved by HEAD.
"""

from __future__ import annotations

from datetime import datetime

from auditor.model.timestamps import parse_time
from auditor.report.model import Finding

BROADER, NARROWER, NEUTRAL = "broader", "narrower", "neutral"
# Resource types that stand for every repository of an account, organization or group.
NAMESPACE_TYPES = {
    "user",
    "org",
    "organization",
    "group",
    "namespace",
    "account",
    "enterprise",
    "instance",
    "org_repositories",
    "all_repositories",
}
ACCESS_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
IDENTITY = ("key", "provider", "kind", "id", "name", "owner", "masked")


def change(kind: str, classification: str, field: str, summary: str, before=None, after=None, **extra) -> dict:
    return {
        "kind": kind,
        "classification": classification,
        "field": field,
        "summary": summary,
        "before": before,
        "after": after,
        **extra,
    }


def _resource_id(resource: dict) -> tuple[str, str]:
    return (str(resource.get("type")), str(resource.get("name")))


def _label(resource: tuple[str, str]) -> str:
    return f"{resource[0]} {resource[1]}"


def _split_level(permission: str) -> tuple[str, str | None]:
    """GitHub-style `contents:write` → ("contents", "write"); other names have no level."""
    name, sep, level = permission.rpartition(":")
    if sep and level in ACCESS_RANK:
        return name, level
    return permission, None


def _permission_changes(field: str, where: str, before: list[str], after: list[str]) -> list[dict]:
    """Added/removed permission names; `name:level` pairs whose level moved become one raised/lowered change."""
    removed = sorted(set(before) - set(after))
    added = sorted(set(after) - set(before))
    out = []
    old_levels = {}
    for permission in removed:
        name, level = _split_level(permission)
        if level is not None:
            old_levels[name] = (permission, level)
    paired = set()
    for permission in added:
        name, level = _split_level(permission)
        if level is not None and name in old_levels:
            old, old_level = old_levels[name]
            paired.add(old)
            raised = ACCESS_RANK[level] > ACCESS_RANK[old_level]
            out.append(
                change(
                    "permission_raised" if raised else "permission_lowered",
                    BROADER if raised else NARROWER,
                    field,
                    f"{name} {old_level} → {level}{where}",
                    old,
                    permission,
                )
            )
        else:
            out.append(change("permission_added", BROADER, field, f"+ {permission}{where}", None, permission))
    for permission in removed:
        if permission not in paired:
            out.append(change("permission_removed", NARROWER, field, f"- {permission}{where}", permission, None))
    return out


def _grants(token: dict) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for grant in token.get("grants") or []:
        resource = _resource_id(grant.get("resource") or {})
        entry = out.setdefault(resource, {"permissions": set(), "access": None})
        entry["permissions"] |= set(grant.get("permissions") or [])
        access = grant.get("access")
        if access and (entry["access"] is None or ACCESS_RANK.get(access, 0) > ACCESS_RANK.get(entry["access"], 0)):
            entry["access"] = access
    return out


def _grant_changes(before: dict, after: dict) -> list[dict]:
    old, new = _grants(before), _grants(after)
    out: list[dict] = []
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    # subset → all: a namespace-wide grant replacing (or joining) grants on repositories inside that namespace
    widened_from: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for resource in added:
        if resource[0] in NAMESPACE_TYPES:
            inside = [r for r in old if r[0] not in NAMESPACE_TYPES and r[1].startswith(resource[1] + "/")]
            if inside:
                widened_from[resource] = inside
    absorbed = {r for inside in widened_from.values() for r in inside if r in removed}
    for resource, inside in sorted(widened_from.items()):
        out.append(
            change(
                "repository_selection_widened",
                BROADER,
                "grants",
                f"{len(inside)} selected {'repository' if len(inside) == 1 else 'repositories'} → every repository of {resource[1]} "
                f"({', '.join(sorted(new[resource]['permissions'])) or 'no permissions listed'})",
                sorted(r[1] for r in inside),
                _label(resource),
                permissions=sorted(new[resource]["permissions"]),
            )
        )
    for resource in added:
        if resource in widened_from:
            continue
        grant = new[resource]
        out.append(
            change(
                "grant_added",
                BROADER,
                "grants",
                f"new grant on {_label(resource)}: {', '.join(sorted(grant['permissions'])) or 'no permissions listed'}",
                None,
                {"resource": _label(resource), "permissions": sorted(grant["permissions"]), "access": grant["access"]},
            )
        )
    for resource in removed:
        if resource in absorbed:
            continue
        grant = old[resource]
        out.append(
            change(
                "grant_removed",
                NARROWER,
                "grants",
                f"grant on {_label(resource)} removed",
                {"resource": _label(resource), "permissions": sorted(grant["permissions"]), "access": grant["access"]},
                None,
            )
        )
    for resource in sorted(set(old) & set(new)):
        where = f" on {_label(resource)}"
        out += _permission_changes(
            "grants", where, sorted(old[resource]["permissions"]), sorted(new[resource]["permissions"])
        )
        was, now = old[resource]["access"], new[resource]["access"]
        if was != now and was and now:
            raised = ACCESS_RANK.get(now, 0) > ACCESS_RANK.get(was, 0)
            out.append(
                change(
                    "access_raised" if raised else "access_lowered",
                    BROADER if raised else NARROWER,
                    "grants",
                    f"access {was} → {now}{where}",
                    was,
                    now,
                )
            )
    return out


def _when(value) -> datetime | None:
    return parse_time(value) if value else None


def _expiry_changes(before: dict, after: dict) -> list[dict]:
    was, now = _when(before.get("expires_at")), _when(after.get("expires_at"))
    if was == now:
        return []
    b, a = before.get("expires_at"), after.get("expires_at")
    if now is None:
        return [change("expiry_removed", BROADER, "expires_at", f"expiry removed (was {b}): never expires", b, a)]
    if was is None:
        return [change("expiry_added", NARROWER, "expires_at", f"now expires {a}", b, a)]
    if now > was:
        return [change("expiry_extended", BROADER, "expires_at", f"expiry extended {b} → {a}", b, a)]
    return [change("expiry_shortened", NARROWER, "expires_at", f"expiry shortened {b} → {a}", b, a)]


def _storage_key(place: dict) -> tuple[str, str, str]:
    return (str(place.get("kind")), str(place.get("location")), str(place.get("key") or ""))


def _storage_label(place: dict) -> str:
    key = f" ({place['key']})" if place.get("key") else ""
    public = " [public]" if place.get("public") else ""
    return f"{place.get('kind')} {place.get('location')}{key}{public}"


def _storage_changes(before: dict, after: dict) -> list[dict]:
    old = {_storage_key(p): p for p in before.get("stored_in") or []}
    new = {_storage_key(p): p for p in after.get("stored_in") or []}
    out = []
    for key in sorted(set(new) - set(old)):
        out.append(
            change(
                "storage_added", BROADER, "stored_in", f"now also stored in {_storage_label(new[key])}", None, new[key]
            )
        )
    for key in sorted(set(old) - set(new)):
        out.append(
            change(
                "storage_removed",
                NARROWER,
                "stored_in",
                f"no longer stored in {_storage_label(old[key])}",
                old[key],
                None,
            )
        )
    for key in sorted(set(old) & set(new)):
        was, now = old[key].get("public"), new[key].get("public")
        if was is not True and now is True:
            out.append(
                change(
                    "storage_made_public", BROADER, "stored_in", f"{_storage_label(new[key])} became public", was, now
                )
            )
        elif was is True and now is False:
            out.append(
                change(
                    "storage_made_private",
                    NARROWER,
                    "stored_in",
                    f"{_storage_label(new[key])} is no longer public",
                    was,
                    now,
                )
            )
    return out


def _flag_change(before: dict, after: dict, field: str, on: tuple[str, str], off: tuple[str, str]) -> list[dict]:
    was, now = bool(before.get(field)), bool(after.get(field))
    if was == now:
        return []
    kind, summary = on if now else off
    return [change(kind, BROADER if now else NARROWER, field, summary, was, now)]


def _list_changes(before: dict, after: dict, field: str, noun: str) -> list[dict]:
    old, new = set(before.get(field) or []), set(after.get(field) or [])
    out = [change(f"{noun}_added", BROADER, field, f"+ {noun} {item}", None, item) for item in sorted(new - old)]
    out += [change(f"{noun}_removed", NARROWER, field, f"- {noun} {item}", item, None) for item in sorted(old - new)]
    return out


def token_changes(before: dict, after: dict) -> list[dict]:
    """Every access-relevant difference between two versions of one token, classified."""
    out: list[dict] = []
    out += _grant_changes(before, after)
    out += _permission_changes(
        "global_permissions", " (global)", before.get("global_permissions") or [], after.get("global_permissions") or []
    )
    out += _list_changes(before, after, "scopes", "scope")
    widened = any(c["kind"] == "repository_selection_widened" for c in out)
    if not (widened and after.get("org_wide")):  # one change for subset → all, not two
        out += _flag_change(
            before,
            after,
            "org_wide",
            ("repository_selection_widened", "repository selection widened: every repository"),
            ("repository_selection_narrowed", "repository selection narrowed: selected repositories"),
        )
    out += _flag_change(
        before,
        after,
        "legacy",
        ("became_legacy", "now a legacy (unscoped) token"),
        ("no_longer_legacy", "no longer a legacy token"),
    )
    out += _expiry_changes(before, after)
    out += _storage_changes(before, after)
    out += _list_changes(before, after, "orgs", "org")
    if before.get("owner") != after.get("owner"):
        out.append(
            change(
                "owner_changed",
                NEUTRAL,
                "owner",
                f"owner {before.get('owner')} → {after.get('owner')}",
                before.get("owner"),
                after.get("owner"),
            )
        )
    if before.get("name") != after.get("name"):
        out.append(
            change(
                "renamed",
                NEUTRAL,
                "name",
                f"renamed {before.get('name')} → {after.get('name')}",
                before.get("name"),
                after.get("name"),
            )
        )
    if _when(before.get("created_at")) != _when(after.get("created_at")):
        out.append(
            change(
                "recreated",
                NEUTRAL,
                "created_at",
                f"created_at {before.get('created_at')} → {after.get('created_at')} (regenerated?)",
                before.get("created_at"),
                after.get("created_at"),
            )
        )
    if (before.get("approval") or {}) != (after.get("approval") or {}):
        out.append(
            change(
                "approval_changed",
                NEUTRAL,
                "approval",
                "approval details changed",
                before.get("approval") or {},
                after.get("approval") or {},
            )
        )
    if before.get("expiry_supported", True) != after.get("expiry_supported", True):
        out.append(
            change(
                "expiry_support_changed",
                NEUTRAL,
                "expiry_supported",
                "expiry support changed",
                before.get("expiry_supported"),
                after.get("expiry_supported"),
            )
        )
    return out


def overall(changes: list[dict]) -> str:
    kinds = {c["classification"] for c in changes}
    if BROADER in kinds:
        return BROADER
    if NARROWER in kinds:
        return NARROWER
    return NEUTRAL


def _identity(token: dict, line_of) -> dict:
    out = {k: token.get(k) for k in IDENTITY}
    source = dict(token.get("source") or {})
    line = line_of(source.get("file"), source.get("pointer", "")) if source.get("file") else None
    if line:
        source["line"] = line
    out["source"] = source
    return out


def diff_tokens(base: list[dict], head: list[dict], base_line_of, head_line_of) -> list[dict]:
    """Added, removed and changed tokens (sorted by status then key); unchanged tokens are left out."""
    old = {t["key"]: t for t in base}
    new = {t["key"]: t for t in head}
    entries = []
    for key in sorted(set(new) - set(old)):
        token = new[key]
        entries.append(
            {
                "status": "added",
                "classification": BROADER,
                **_identity(token, head_line_of),
                "changes": [
                    change(
                        "token_added",
                        BROADER,
                        "token",
                        "new token",
                        None,
                        {
                            "grants": token.get("grants") or [],
                            "scopes": token.get("scopes") or [],
                            "legacy": token.get("legacy"),
                            "org_wide": token.get("org_wide"),
                            "expires_at": token.get("expires_at"),
                        },
                    )
                ],
            }
        )
    for key in sorted(set(old) - set(new)):
        entries.append(
            {
                "status": "removed",
                "classification": NARROWER,
                **_identity(old[key], base_line_of),
                "changes": [
                    change(
                        "token_removed",
                        NARROWER,
                        "token",
                        "token gone (revoked, inactive or no longer exported)",
                        None,
                        None,
                    )
                ],
            }
        )
    for key in sorted(set(old) & set(new)):
        changes = token_changes(old[key], new[key])
        if changes:
            entries.append(
                {
                    "status": "changed",
                    "classification": overall(changes),
                    **_identity(new[key], head_line_of),
                    "changes": changes,
                }
            )
    order = {"added": 0, "changed": 1, "removed": 2}
    return sorted(entries, key=lambda e: (order[e["status"]], e["key"]))


def diff_findings(base: list[Finding], head: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(introduced by head, resolved by head), by fingerprint, in report order."""
    before = {f["fingerprint"] for f in base}
    after = {f["fingerprint"] for f in head}
    return [f for f in head if f["fingerprint"] not in before], [f for f in base if f["fingerprint"] not in after]
