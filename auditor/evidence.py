"""Evidence coverage: which parts of an organization's inventory were exported, and so which rules could run.

Each organization (or GitLab instance) of the normalized input carries `evidence: {kind: status}` for the
kinds its provider can supply. A rule declares the kinds it needs (`custom.requires` in its METADATA). Where a
required kind is not `present` for an organization, the rule does not run there (policies/lib/finding) and
the report lists it as not assessed, with the export or collect step that would assess it.

Statuses: present (exported, possibly empty) · missing (not in the inputs) · forbidden (the collector got
401/403) · failed (the collector could not finish it) · skipped (the collector's credentials cannot call it) ·
not_applicable (the provider cannot show it, e.g.
credential authorizations without SAML SSO). A kind the provider does not have is simply absent.
"""

from __future__ import annotations

PRESENT = "present"
MISSING = "missing"
# When several inputs describe one organization: present wins, then the most telling reason.
PRIORITY = {PRESENT: 5, "failed": 4, "forbidden": 3, "skipped": 2, "not_applicable": 1, MISSING: 0}
COLLECTION_STATUS = {"ok": PRESENT, "forbidden": "forbidden", "failed": "failed", "skipped": "skipped",
                     "not_applicable": "not_applicable"}

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


def merge(into: dict, other: dict) -> dict:
    """Evidence of one organization from several inputs: per kind, the better status."""
    for kind, status in (other or {}).items():
        if PRIORITY.get(status, 0) >= PRIORITY.get(into.get(kind), -1):
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


def not_assessed(orgs: list[dict], rules: list) -> list[dict]:
    """(rule × organization) pairs whose required evidence is not present: the rules lib/finding gates.

    A rule limited to some providers (`custom.providers`) is not listed for organizations of others.
    """
    out = []
    for org in orgs:
        evidence = org.get("evidence") or {}
        for rule in rules:
            providers = set(rule.providers)
            if providers and org["provider"] not in providers and "any" not in providers:
                continue
            missing = sorted(kind for kind in rule.requires if evidence.get(kind, PRESENT) != PRESENT)
            if not missing:
                continue
            out.append({
                "rule_id": rule.id,
                "provider": org["provider"],
                "org": org["name"],
                "missing": [{"kind": kind, "status": evidence[kind],
                             "reason": STATUS_TEXT.get(evidence[kind], evidence[kind]),
                             "how": how_to_assess(org["provider"], kind, org["name"])}
                            for kind in missing],
            })
    return sorted(out, key=lambda e: (e["rule_id"], e["provider"], e["org"]))


def coverage(orgs: list[dict]) -> list[dict]:
    """Per organization: the status of each evidence kind its provider can supply."""
    return sorted(({"provider": o["provider"], "org": o["name"], "evidence": dict(sorted((o.get("evidence") or {}).items()))}
                   for o in orgs if o.get("evidence")), key=lambda e: (e["provider"], e["org"]))


def report_rows(data: dict) -> list[dict]:
    """The report's not-assessed entries, one row per rule × organization, for the formatters."""
    rows = []
    for entry in data.get("not_assessed") or []:
        missing = entry.get("missing") or []
        rows.append({
            "rule_id": entry["rule_id"], "provider": entry["provider"], "org": entry["org"],
            "missing": ", ".join(f"{m['kind']} ({m['status']})" for m in missing),
            "how": "; ".join(dict.fromkeys(m.get("how", "") for m in missing)),
        })
    return rows


def headline(data: dict) -> str | None:
    """One line saying how many rules did not run, or None when every rule could run everywhere."""
    rows = data.get("not_assessed") or []
    if not rows:
        return None
    rules = len({r["rule_id"] for r in rows})
    orgs = len({(r["provider"], r["org"]) for r in rows})
    return (f"{rules} rule{'s' if rules != 1 else ''} not assessed in {orgs} organization{'s' if orgs != 1 else ''}: "
            "evidence they need is missing from the inputs (not counted as a pass)")
