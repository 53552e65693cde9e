"""OPA returns compact findings (policies/lib/finding); the engine joins back what the rule's METADATA says."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.engine.client import rules_by_id
from auditor.findings import expand_finding, expand_findings

POLICIES = Path(__file__).resolve().parents[1] / "policies"

SUBJECT = {
    "type": "token",
    "key": "huggingface:user_access_token:t1",
    "id": "t1",
    "provider": "huggingface",
    "kind": "user_access_token",
    "name": "ci",
    "owner": "jdoe",
    "masked": "hf_…c90d",
    "source": {"file": "inv.json", "pointer": "/tokens/0"},
}


def test_compact_finding_gets_its_rules_metadata_in_opas_key_order():
    rule = rules_by_id(POLICIES)["stale-token"]
    compact = {
        "rule_id": "stale-token",
        "subject": SUBJECT,
        "message": "unused",
        "recommendation": {"summary": "Revoke it", "steps": ["Revoke t1"]},
    }
    expanded = expand_finding(compact, rule)
    assert json.dumps(expanded, ensure_ascii=False) == json.dumps(
        {
            "evidence": {},
            "instance": "",
            "message": "unused",
            "nhi": ["NHI1"],
            "recommendation": {"action": "revoke", "replacement": None, "steps": ["Revoke t1"], "summary": "Revoke it"},
            "rule_id": "stale-token",
            "severity": "medium",
            "source": {"file": "inv.json", "pointer": "/tokens/0"},
            "subject": SUBJECT,
            "title": "Stale token",
        },
        ensure_ascii=False,
    )
    expanded["source"]["line"] = 7  # prepare_findings adds the line to the finding's source only
    assert SUBJECT["source"] == {"file": "inv.json", "pointer": "/tokens/0"}


def test_what_the_check_sets_wins_over_the_metadata():
    rule = rules_by_id(POLICIES)["exposed-in-public-space"]
    compact = {
        "rule_id": "exposed-in-public-space",
        "subject": {"type": "org", "key": "org:huggingface:acme"},
        "message": "m",
        "severity": "high",
        "instance": "acme/demo",
        "evidence": {"space": "acme/demo"},
        "recommendation": {"action": "narrow", "replacement": {"type": "user_access_token"}},
    }
    expanded = expand_findings([compact], rules_by_id(POLICIES))[0]
    assert (expanded["severity"], expanded["instance"], expanded["evidence"]) == (
        "high",
        "acme/demo",
        {"space": "acme/demo"},
    )
    assert expanded["recommendation"] == {"action": "narrow", "replacement": {"type": "user_access_token"}, "steps": []}
    assert expanded["source"] is None and expanded["title"] == rule.title
    # a severity that is none of the five falls back to the rule's, as it did in Rego
    assert expand_finding({**compact, "severity": "urgent"}, rule)["severity"] == "critical"
