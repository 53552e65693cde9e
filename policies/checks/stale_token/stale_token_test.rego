package checks.stale_token_test

import data.checks.stale_token
import data.lib.testing

test_token_unused_for_months_fires if {
	tok := testing.token({"last_used_at": "2026-06-01T00:00:00Z", "stored_in": [{"kind": "ci_variable", "location": "ci/job"}]})
	some f in stale_token.findings with input as testing.input_with([tok])
	f.rule_id == "stale-token"
	testing.rule_severity(f)
	f.evidence.days_since_use == 177
	contains(f.message, "last used 177 days ago")
	f.recommendation.action == "revoke"
	"Remove it from ci/job" in f.recommendation.steps
}

test_recently_used_token_does_not_fire if {
	tok := testing.token({"last_used_at": "2026-09-01T00:00:00Z"})
	count(stale_token.findings) == 0 with input as testing.input_with([tok])
}

test_threshold_comes_from_config if {
	tok := testing.token({"last_used_at": "2026-09-01T00:00:00Z"})
	inp := object.union(testing.input_with([tok]), {"config": {"thresholds": {"stale_days": 30}}})
	some f in stale_token.findings with input as inp
	f.evidence.stale_days == 30
}

test_expired_or_never_used_tokens_are_not_stale if {
	expired := testing.token({"id": "e", "last_used_at": "2025-01-01T00:00:00Z", "expires_at": "2026-01-01T00:00:00Z"})
	never := testing.token({"id": "n", "last_used_at": null})
	count(stale_token.findings) == 0 with input as testing.input_with([expired, never])
}

test_just_past_the_threshold_fires if {
	# 90 days and 23 hours: more than 90 days, though the whole-day count is 90.
	tok := testing.token({"last_used_at": "2026-08-26T01:00:00Z"})
	some f in stale_token.findings with input as testing.input_with([tok])
	f.evidence.days_since_use == 90
}
