package lib.config_test

# Exact boundaries: "more than N days" never fires at exactly N days; a token expiring at now is not expired.
# Now is 2026-11-25T00:00:00Z (testing.input_with).

import data.checks.expired_token
import data.checks.long_lived
import data.checks.never_used_token
import data.checks.stale_token
import data.checks.unrotated_token
import data.lib.config
import data.lib.testing
import data.lib.tokens

test_older_than_is_strict if {
	not config.older_than("2026-08-27T00:00:00Z", 90) with input as testing.input_with([])
	config.older_than("2026-08-26T23:59:59Z", 90) with input as testing.input_with([])
}

test_longer_than_is_strict if {
	not config.longer_than("2026-11-15T00:00:00Z", "2027-02-13T00:00:00Z", 90)
	config.longer_than("2026-11-15T00:00:00Z", "2027-02-13T00:00:01Z", 90)
}

test_expiring_now_is_not_expired if {
	not tokens.expired(testing.token({"expires_at": "2026-11-25T00:00:00Z"})) with input as testing.input_with([])
	tokens.expired(testing.token({"expires_at": "2026-11-24T23:59:59Z"})) with input as testing.input_with([])
}

test_stale_at_exactly_90_days_does_not_fire if {
	at := testing.token({"id": "at", "last_used_at": "2026-08-27T00:00:00Z"})
	past := testing.token({"id": "past", "last_used_at": "2026-08-26T23:59:59Z"})
	{f.subject.id | some f in stale_token.findings} == {"past"} with input as testing.input_with([at, past])
}

test_never_used_at_exactly_30_days_does_not_fire if {
	at := testing.token({"id": "at", "created_at": "2026-10-26T00:00:00Z", "last_used_at": null})
	past := testing.token({"id": "past", "created_at": "2026-10-25T23:59:59Z", "last_used_at": null})
	{f.subject.id | some f in never_used_token.findings} == {"past"} with input as testing.input_with([at, past])
}

test_unrotated_at_exactly_365_days_does_not_fire if {
	at := testing.token({"id": "at", "created_at": "2025-11-25T00:00:00Z"})
	past := testing.token({"id": "past", "created_at": "2025-11-24T23:59:59Z"})
	{f.subject.id | some f in unrotated_token.findings} == {"past"} with input as testing.input_with([at, past])
}

test_lifetime_of_exactly_90_days_does_not_fire if {
	at := testing.token({"id": "at", "created_at": "2026-11-15T00:00:00Z", "expires_at": "2027-02-13T00:00:00Z"})
	past := testing.token({"id": "past", "created_at": "2026-11-15T00:00:00Z", "expires_at": "2027-02-13T00:00:01Z"})
	{f.subject.id | some f in long_lived.findings} == {"past"} with input as testing.input_with([at, past])
}

test_token_expiring_now_is_not_reported_expired if {
	at := testing.token({"id": "at", "expires_at": "2026-11-25T00:00:00Z"})
	past := testing.token({"id": "past", "expires_at": "2026-11-24T23:59:59Z"})
	{f.subject.id | some f in expired_token.findings} == {"past"} with input as testing.input_with([at, past])
}

test_whole_days_round_down if {
	config.days_between("2026-01-01T00:00:00Z", "2026-01-31T23:59:59Z") == 30
	config.days_since("2026-10-26T00:00:01Z") == 29 with input as testing.input_with([])
}
