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

_npm_classic := testing.token({
	"key": "npm:classic_publish_token:n1", "provider": "npm", "kind": "classic_publish_token", "legacy": true,
	"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["package.publish"], "access": "write"}],
})

test_npm_classic_token_after_the_revocation_is_a_stale_inventory if {
	some f in legacy_token.findings with input as testing.input_with([_npm_classic])
	endswith(f.message, concat(" ", [
		"; npm revoked every classic token on 2025-12-09, so this one no longer works:",
		"the inventory is stale (export it again)",
	]))
	f.evidence.stale_inventory
	f.recommendation.steps[1] == concat(" ", [
		"Create a granular access token with only the packages it publishes, read-write only where it publishes,",
		"and an expiry (https://www.npmjs.com/settings/~/tokens)",
	])
}

test_npm_classic_token_before_the_revocation_is_not_called_stale if {
	inp := object.union(testing.input_with([_npm_classic]), {"now": "2025-11-01T00:00:00Z"})
	some f in legacy_token.findings with input as inp
	not f.evidence.stale_inventory
	endswith(f.message, "to everything jdoe can reach")
}
