package checks.legacy_token_test

import data.checks.legacy_token
import data.lib.testing

_write := testing.token({
	"legacy": true,
	"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["role.write"]}],
})

_read := testing.token({
	"legacy": true,
	"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["role.read"]}],
})

test_write_legacy_token_is_high if {
	some f in legacy_token.findings with input as testing.input_with([_write])
	f.rule_id == "legacy-token"
	f.severity == "high"
	f.recommendation.action == "replace"
	f.recommendation.replacement.needs_owner_input
}

test_read_legacy_token_is_medium if {
	some f in legacy_token.findings with input as testing.input_with([_read])
	f.severity == "medium"
}

test_replacement_from_usage_never_grants_more_than_today if {
	usage := [{"resource": {"type": "model", "name": "acme/bert"}, "actions": ["write", "inference"]}]
	tok := object.union(_read, {"observed_usage": usage})
	some f in legacy_token.findings with input as testing.input_with([tok])
	f.recommendation.replacement.scoped == [{
		"entity": {"type": "model", "name": "acme/bert"},
		"permissions": ["repo.content.read"],
	}]

	# the Hub grants Inference Providers calls per user or org, never on a model
	f.recommendation.replacement.global == ["inference.serverless.write"]
	not f.recommendation.replacement.needs_owner_input
}

test_fine_grained_token_is_not_legacy if {
	count(legacy_token.findings) == 0 with input as testing.input_with([testing.token({})])
}

test_expired_legacy_token_is_left_to_expired_token if {
	tok := object.union(_write, {"expires_at": "2026-01-01T00:00:00Z"})
	count(legacy_token.findings) == 0 with input as testing.input_with([tok])
}
