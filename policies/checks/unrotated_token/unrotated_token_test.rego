package checks.unrotated_token_test

import data.checks.unrotated_token
import data.lib.testing

test_token_older_than_a_year_fires if {
	tok := testing.token({"created_at": "2025-01-01T00:00:00Z", "stored_in": [{"kind": "k8s_secret", "location": "prod/x"}]})
	some f in unrotated_token.findings with input as testing.input_with([tok])
	f.rule_id == "unrotated-token"
	testing.rule_severity(f)
	f.evidence.age_days == 693
	f.recommendation.action == "rotate"
	"Update prod/x with the new value" in f.recommendation.steps
}

test_young_unknown_or_expired_tokens_do_not_fire if {
	young := testing.token({"id": "y", "created_at": "2026-01-01T00:00:00Z"})
	unknown := testing.token({"id": "u", "created_at": null})
	expired := testing.token({"id": "e", "created_at": "2024-01-01T00:00:00Z", "expires_at": "2026-11-24T00:00:00Z"})
	count(unrotated_token.findings) == 0 with input as testing.input_with([young, unknown, expired])
}
