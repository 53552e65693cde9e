"""Evidence coverage: which parts of an organization's inventory were exported, and so which rules could run.

Each organization (or GitLab instance) of the normalized input carries `evidence: {kind: status}` for the
kinds its provider can supply. A rule declares the kinds it needs (`custom.requires` in its METADATA). Where a
required kind is not `present` for an organization, the rule does not run there (policies/lib/finding) and
the report lists it as not assessed, with the export or collect step that would assess it.

Statuses: present (exported, possibly empty) · missing (not in the inputs) · forbidden (the collector got
401/403) · failed (the collector could not finish it) · skipped (the collector's credentials cannot call it) ·
not_applicable (the provider cannot show it, e.g.
credential authorizations without SAML SSO). A kind the provider does not have is simply absent.

Tokens may carry token-level evidence the same way (`evidence: {kind: status}` on a normalized token, e.g.
`token_usage` where the provider's API does not say when a token was last used). A rule requiring it does not
run for such a token, and the report lists it as not assessed per (provider, owner) with the count of tokens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

PRESENT = "present"
MISSING = "missing"
# When several inputs describe one organization: present wins, then the most telling reason.
PRIORITY = {PRESENT: 5, "failed": 4, "forbidden": 3, "skipped": 2, "not_applicable": 1, MISSING: 0}
COLLECTION_STATUS = {
    "ok": PRESENT,
    "forbidden": "forbidden",
    "failed": "failed",
    "skipped": "skipped",
    "not_applicable": "not_applicable",
}

# Evidence kinds per provider, each with where it comes from (wrapper key or endpoint) and how to supply it.
GITHUB = {
    "personal_access_tokens": "export /orgs/{org}/personal-access-tokens",
    "personal_access_token_requests": "export /orgs/{org}/personal-access-token-requests",
    "credential_authorizations": "export /orgs/{org}/credential-authorizations (organizations with SAML SSO)",
    "members": "export /orgs/{org}/members",
    "installations": "export /orgs/{org}/installations",
    "org_policies": "copy Settings → Personal access tokens of {org} into `org_settings` of a github-inventory/v1 file",
}
GITLAB = {
    "members": "token-auditor reads no GitLab membership yet: check by hand that each token's owner is still an "
    "active member of {org}",
}
HUGGINGFACE = {
    "members": "add {org}'s members (`members:` entries with org {org})",
    "org_policies": "add an `org_policies` entry for {org} (organization Settings → Tokens)",
    "spaces": "add `spaces` (each Space's info with `private`, its secret and variable names)",
}
NEUTRAL = {
    "members": "add `members` to the organization {org} in the token-inventory/v1 file",
    "org_policies": "add `token_policy` to the organization {org} in the token-inventory/v1 file",
}
# Token-level evidence kinds: how to supply each for the tokens of {org} (their owner namespace).
TOKEN_KINDS = {
    "huggingface": {
        "token_usage": "copy each token's last use from huggingface.co/settings/tokens (for {org}'s org tokens: its "
        "Settings → Access Tokens) into `inventory.last_used_at` (null when the Hub shows it never used)",
    },
}
KINDS = {"github": GITHUB, "gitlab": GITLAB, "huggingface": HUGGINGFACE}
COLLECT = {
    "github": "run `token-auditor collect github --org {org}`",
    "huggingface": "run `token-auditor collect huggingface`",
}
STATUS_TEXT = {
    MISSING: "not in the inputs",
    "forbidden": "the collector was refused (401/403)",
    "failed": "the collector could not complete it",
    "skipped": "the collector skipped it (its credentials cannot call the endpoint)",
    "not_applicable": "the provider does not show it for this organization",
}
TOKEN_STATUS_TEXT = {
    **STATUS_TEXT,
    "not_applicable": "the provider's API does not show it for these tokens",
}


def merge(into: dict, other: dict) -> dict:
    """Evidence of one organization from several inputs: per kind, the better status."""
    for kind, status in (other or {}).items():
        current = into.get(kind)
        if current is None or PRIORITY.get(status, 0) >= PRIORITY.get(current, -1):
            into[kind] = status
    return into


def from_sections(kinds: dict, given: set[str], collection=None, aliases: dict | None = None) -> dict:
    """Status per kind: present where its export was given (an empty list counts), else missing; a
    collector's `collection.endpoints` record, when present, decides for the endpoints it names."""
    evidence = {kind: PRESENT if kind in given else MISSING for kind in kinds}
    endpoints = collection.get("endpoints") if isinstance(collection, dict) else None
    for name, record in (endpoints or {}).items() if isinstance(endpoints, dict) else ():
        kind = (aliases or {}).get(name, name)
        status = record.get("status") if isinstance(record, dict) else None
        if kind in evidence and status in COLLECTION_STATUS:
            evidence[kind] = COLLECTION_STATUS[status]
    return evidence


def how_to_assess(provider: str, kind: str, org: str) -> str:
    """The export or collect step that supplies `kind` for `org`."""
    step = KINDS.get(provider, NEUTRAL).get(kind) or NEUTRAL.get(kind) or f"export {kind}"
    collect = COLLECT.get(provider)
    text = step.format(org=org)
    return f"{text} or {collect.format(org=org)}" if collect else text


# (provider, owner, ((kind, status) not present, sorted)) → tokens: what not_assessed needs of the tokens.
LackingCounts = Counter[tuple[str, str, tuple[tuple[str, str], ...]]]


def add_lacking(counts: LackingCounts, token: Mapping) -> None:
    """Count the token if some of its own evidence is not present."""
    lacking = tuple(
        sorted((kind, status) for kind, status in (token.get("evidence") or {}).items() if status != PRESENT)
    )
    if lacking:
        counts[(token["provider"], token["owner"], lacking)] += 1


def lacking_evidence(tokens: Iterable[Mapping]) -> LackingCounts:
    """The tokens whose own evidence is incomplete, counted by provider, owner and what they lack."""
    counts: LackingCounts = Counter()
    for token in tokens:
        add_lacking(counts, token)
    return counts


def _applies(rule, provider: str) -> bool:
    providers = set(rule.providers)
    return not providers or provider in providers or "any" in providers


def not_assessed(
    orgs: list[dict], rules: list, tokens: Iterable[Mapping] = (), lacking: LackingCounts | None = None
) -> list[dict]:
    """(rule × organization) pairs whose required evidence is not present: the rules lib/finding gates.
    Token-level evidence adds one entry per rule × (provider, token owner), with `tokens` counting those affected;
    it is read from `tokens`, or from `lacking` (lacking_evidence's counts) where the tokens are not held.

    A rule limited to some providers (`custom.providers`) is not listed for organizations of others.
    """
    out = []
    for org in orgs:
        evidence = org.get("evidence") or {}
        for rule in rules:
            if not _applies(rule, org["provider"]):
                continue
            missing = sorted(kind for kind in rule.requires if evidence.get(kind, PRESENT) != PRESENT)
            if not missing:
                continue
            out.append(
                {
                    "rule_id": rule.id,
                    "provider": org["provider"],
                    "org": org["name"],
                    "missing": [
                        {
                            "kind": kind,
                            "status": evidence[kind],
                            "reason": STATUS_TEXT.get(evidence[kind], evidence[kind]),
                            "how": how_to_assess(org["provider"], kind, org["name"]),
                        }
                        for kind in missing
                    ],
                }
            )
    counts = lacking if lacking is not None else lacking_evidence(tokens)
    for rule in rules:
        per_owner: dict[tuple[str, str], tuple[list[int], set[tuple[str, str]]]] = {}  # → ([tokens], {(kind, status)})
        for (provider, owner, signature), number in sorted(counts.items()):
            relevant = [(kind, status) for kind, status in signature if kind in rule.requires]
            if relevant and _applies(rule, provider):
                tally, pairs = per_owner.setdefault((provider, owner), ([0], set()))
                tally[0] += number
                pairs.update(relevant)
        for (provider, owner), (tally, pairs) in per_owner.items():
            how = TOKEN_KINDS.get(provider, {}).get
            out.append(
                {
                    "rule_id": rule.id,
                    "provider": provider,
                    "org": owner,
                    "tokens": tally[0],
                    "missing": [
                        {
                            "kind": kind,
                            "status": status,
                            "reason": TOKEN_STATUS_TEXT.get(status, status),
                            "how": (how(kind) or f"supply {kind} for each token").format(org=owner),
                        }
                        for kind, status in sorted(pairs)
                    ],
                }
            )
    return sorted(out, key=lambda e: (e["rule_id"], e["provider"], e["org"], "tokens" in e))


def coverage(orgs: list[dict]) -> list[dict]:
    """Per organization: the status of each evidence kind its provider can supply."""
    return sorted(
        (
            {"provider": o["provider"], "org": o["name"], "evidence": dict(sorted((o.get("evidence") or {}).items()))}
            for o in orgs
            if o.get("evidence")
        ),
        key=lambda e: (e["provider"], e["org"]),
    )


def report_rows(data: Mapping[str, Any]) -> list[dict]:
    """The report's not-assessed entries, one row per rule × organization, for the formatters."""
    rows = []
    for entry in data.get("not_assessed") or []:
        missing = entry.get("missing") or []
        tokens = entry.get("tokens")
        scope = f"{entry['org']} ({tokens} token{'s' if tokens != 1 else ''})" if tokens else entry["org"]
        rows.append(
            {
                "rule_id": entry["rule_id"],
                "provider": entry["provider"],
                "org": scope,
                "missing": ", ".join(f"{m['kind']} ({m['status']})" for m in missing),
                "how": "; ".join(dict.fromkeys(m.get("how", "") for m in missing)),
            }
        )
    return rows


def headline(data: Mapping[str, Any]) -> str | None:
    """One line saying how many rules did not run, or None when every rule could run everywhere."""
    rows = data.get("not_assessed") or []
    if not rows:
        return None
    rules = len({r["rule_id"] for r in rows})
    orgs = len({(r["provider"], r["org"]) for r in rows if "tokens" not in r})
    owners = {(r["provider"], r["org"]): 0 for r in rows if "tokens" in r}
    for r in rows:
        if "tokens" in r:
            owners[(r["provider"], r["org"])] = max(owners[(r["provider"], r["org"])], r["tokens"])
    where = [f"{orgs} organization{'s' if orgs != 1 else ''}"] if orgs else []
    if owners:
        count = sum(owners.values())
        where.append(
            f"{count} token{'s' if count != 1 else ''} of {len(owners)} owner{'s' if len(owners) != 1 else ''}"
        )
    return (
        f"{rules} rule{'s' if rules != 1 else ''} not assessed in {' and for '.join(where)}: "
        "evidence they need is missing from the inputs (not counted as a pass)"
    )
