package checks.expired_token_test

import data.checks.expired_token
import data.lib.testing

test_expired_token_is_low_clean_up if {
	tok := testing.token({"expires_at": "2026-10-26T00:00:00Z", "stored_in": [{"kind": "ci_variable", "location": "ci/nightly"}]})
	some f in expired_token.findings with input as testing.input_with([tok])
	f.rule_id == "expired-token"
	testing.rule_severity(f)
	f.evidence.days_since_expiry == 30
	contains(f.message, "expired 30 days ago (2026-10-26T00:00:00Z) but is still listed and stored in ci/nightly")
	f.recommendation.action == "revoke"
}

test_expired_unstored_token if {
	tok := testing.token({"expires_at": "2026-10-26T00:00:00Z"})
	some f in expired_token.findings with input as testing.input_with([tok])
	endswith(f.message, "but is still listed")
}

test_valid_or_never_expiring_tokens_do_not_fire if {
	later := testing.token({"id": "l", "expires_at": "2026-12-01T00:00:00Z"})
	never := testing.token({"id": "n", "expires_at": null})
	count(expired_token.findings) == 0 with input as testing.input_with([later, never])
}
