"""A synthetic JSON report of any size (seeded), shaped like `audit --format json` writes it, for report tests."""

from __future__ import annotations

import hashlib
import random
from collections import Counter

from conftest import NOW, ROOT

from auditor.findings import load_rules
from auditor.findings.finding import fingerprint, prepare_findings
from auditor.report.model import SCHEMA_VERSION, build_summary

PROVIDERS = ("huggingface", "github", "gitlab")


def synthetic_report(findings: int = 100_000, per_token: int = 5, seed: int = 7) -> dict:
    """`findings` findings spread over findings/per_token tokens, every rule of the catalogue used."""
    rng = random.Random(seed)
    rules = [r.as_dict() for r in load_rules(ROOT / "policies")]
    tokens, raw = [], []
    for index in range(max(1, findings // per_token)):
        provider = PROVIDERS[index % len(PROVIDERS)]
        owner = f"owner-{rng.randrange(400):03d}"
        token = {
            "key": f"{provider}:user_token:tok-{index:06d}",
            "id": f"tok-{index:06d}",
            "provider": provider,
            "kind": "user_token",
            "name": f"ci-token-{index}",
            "owner": owner,
            "masked": f"x_…{index % 10000:04d}",
            "legacy": index % 3 == 0,
            "org_wide": index % 7 == 0,
            "grants": [
                {
                    "resource": {"type": "repository", "name": f"acme/repo-{index % 50}"},
                    "permissions": ["contents:write"],
                }
            ],
            "global_permissions": [],
            "scopes": ["repo"] if index % 3 == 0 else [],
            "created_at": "2024-01-01T00:00:00Z",
            "expires_at": None if index % 2 else "2027-01-01T00:00:00Z",
            "last_used_at": None if index % 5 == 0 else "2026-11-01T00:00:00Z",
            "expiry_supported": True,
            "orgs": ["acme"],
            "approval": {},
            "stored_in": [{"kind": "ci_variable", "location": f"acme/app-{index % 9}", "key": "TOKEN"}],
            "observed_usage": [],
            "source": {"file": "synthetic.json", "pointer": f"/tokens/{index}"},
        }
        tokens.append(token)
        subject = {
            "type": "token",
            "key": token["key"],
            "id": token["id"],
            "provider": provider,
            "kind": token["kind"],
            "name": token["name"],
            "owner": owner,
            "masked": token["masked"],
        }
        for rule in rng.sample(rules, min(per_token, len(rules))):
            raw.append(
                {
                    "rule_id": rule["id"],
                    "title": rule["title"],
                    "severity": rule["severity"],
                    "nhi": rule["nhi"],
                    "subject": subject,
                    "instance": "",
                    "message": f"{rule['title']} on {token['name']}",
                    "evidence": {},
                    "source": dict(token["source"]),
                    "recommendation": {
                        "action": rule["recommended_action"] or "revoke",
                        "summary": rule["title"],
                        "steps": [f"Fix {token['name']}"],
                        "replacement": None,
                    },
                }
            )
    found = prepare_findings(raw)
    assert len({fingerprint(f) for f in found}) == len(found)
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "token-auditor", "version": "0.1.0"},
        "engine": {"name": "opa", "opa_version": "1.22.3", "mode": "managed"},
        "policy": {"catalogue_version": "synthetic", "catalogue_date": None, "rules": [r["id"] for r in rules]},
        "now": NOW,
        "config": {},
        "inputs": [
            {
                "path": "synthetic.json",
                "sha256": hashlib.sha256(b"synthetic").hexdigest(),
                "format": "token-inventory/v1",
                "provider": "mixed",
                "tokens": len(tokens),
            }
        ],
        "summary": build_summary(len(tokens), len(tokens), [], found, Counter(t["provider"] for t in tokens)),
        "findings": found,
        "skipped": [],
        "secrets_redacted": 0,
        "rules": rules,
        "tokens": tokens,
    }
    return data
