package checks.never_used_token_test

import data.checks.never_used_token
import data.lib.testing

test_old_never_used_token_fires if {
	tok := testing.token({"created_at": "2026-09-01T00:00:00Z", "last_used_at": null})
	some f in never_used_token.findings with input as testing.input_with([tok])
	f.rule_id == "never-used-token"
	testing.rule_severity(f)
	f.evidence.days_since_creation == 85
	contains(f.message, "created 85 days ago")
}

test_new_token_in_grace_period_does_not_fire if {
	tok := testing.token({"created_at": "2026-11-10T00:00:00Z", "last_used_at": null})
	count(never_used_token.findings) == 0 with input as testing.input_with([tok])
}

test_used_unknown_age_or_expired_tokens_do_not_fire if {
	used := testing.token({"id": "u", "created_at": "2025-01-01T00:00:00Z"})
	unknown := testing.token({"id": "a", "created_at": null, "last_used_at": null})
	expired := testing.token({
		"id": "e",
		"created_at": "2025-01-01T00:00:00Z",
		"last_used_at": null,
		"expires_at": "2026-11-01T00:00:00Z",
	})
	count(never_used_token.findings) == 0 with input as testing.input_with([used, unknown, expired])
}

test_stored_token_names_where_to_remove_it if {
	tok := testing.token({
		"created_at": "2026-01-01T00:00:00Z",
		"last_used_at": null,
		"stored_in": [{"kind": "k8s_secret", "location": "prod/x"}],
	})
	some f in never_used_token.findings with input as testing.input_with([tok])
	"Remove it from prod/x" in f.recommendation.steps
}
