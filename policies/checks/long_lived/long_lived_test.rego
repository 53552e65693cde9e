package checks.long_lived_test

import data.checks.long_lived
import data.lib.testing

_year := testing.token({
	"key": "github:fine_grained_pat:9", "id": "9", "provider": "github", "kind": "fine_grained_pat",
	"created_at": "2026-09-01T00:00:00Z", "expires_at": "2027-09-01T00:00:00Z", "expiry_supported": true,
	"grants": [{"resource": {"type": "repository", "name": "acme/api"}, "permissions": ["contents:read", "metadata:read"]}],
})

test_year_long_token_fires if {
	some f in long_lived.findings with input as testing.input_with([_year])
	f.rule_id == "long-lived"
	f.evidence.lifetime_days == 365
	f.recommendation.action == "rotate"
}

test_threshold_comes_from_config if {
	cfg := object.union(testing.input_with([_year]), {"config": {"thresholds": {"max_lifetime_days": 400}}})
	count(long_lived.findings) == 0 with input as cfg
}

test_short_lifetime_does_not_fire if {
	short := object.union(_year, {"expires_at": "2026-11-30T00:00:00Z"})
	count(long_lived.findings) == 0 with input as testing.input_with([short])
}

test_expired_token_is_left_to_expired_check if {
	gone := object.union(_year, {"created_at": "2025-01-01T00:00:00Z", "expires_at": "2026-06-01T00:00:00Z"})
	count(long_lived.findings) == 0 with input as testing.input_with([gone])
}
