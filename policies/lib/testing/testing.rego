# METADATA
# title: Test fixtures
# description: Builders of normalized tokens, orgs and inputs for the checks' unit tests.
package lib.testing

# METADATA
# description: A well-scoped, recently used Hugging Face fine-grained token, with overrides merged in.
token(overrides) := object.union(
	{
		"key": "huggingface:user_access_token:t1",
		"id": "t1",
		"provider": "huggingface",
		"kind": "user_access_token",
		"name": "ci-publish",
		"owner": "jdoe",
		"prefix": "hf_",
		"last4": "c90d",
		"masked": "hf_…c90d",
		"legacy": false,
		"org_wide": false,
		"grants": [{"resource": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]}],
		"global_permissions": [],
		"scopes": [],
		"created_at": "2026-10-01T00:00:00Z",
		"expires_at": null,
		"last_used_at": "2026-11-20T00:00:00Z",
		"expiry_supported": false,
		"active": true,
		"orgs": ["acme"],
		"approval": {},
		"stored_in": [],
		"observed_usage": [],
		"source": {"file": "inventory.yaml", "pointer": "/tokens/0"},
		"native": {},
	},
	overrides,
)

# METADATA
# description: An input holding the given tokens, at a fixed now, with no orgs.
input_with(toks) := {"now": "2026-11-25T00:00:00Z", "tokens": toks, "orgs": [], "locations": [], "secrets": []}

# METADATA
# description: The rule ids of a findings set.
rule_ids(findings) := {f.rule_id | some f in findings}

# A check's findings are compact (lib.finding): what the check leaves to its rule's METADATA, the
# engine joins in by rule id (auditor/findings/finding.py). This says that the check left it.

# METADATA
# description: The finding takes its rule's METADATA severity (custom.severity), setting none.
rule_severity(f) if not "severity" in object.keys(f)
