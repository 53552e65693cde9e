package checks.exposed_in_public_space_test

import data.checks.exposed_in_public_space
import data.lib.testing

_place(location, public) := {"kind": "hf_space_secret", "location": location, "key": "HF_TOKEN", "public": public}

test_write_token_in_public_space_is_critical if {
	tok := testing.token({
		"grants": [{"resource": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.write"]}],
		"stored_in": [_place("acme/demo", true)],
	})
	some f in exposed_in_public_space.findings with input as testing.input_with([tok])
	f.rule_id == "exposed-in-public-space"
	f.severity == "critical"
	f.instance == "hf_space_secret:acme/demo"
	contains(f.message, "public Space acme/demo")
	f.evidence.can_write
}

test_read_token_in_public_space_is_high_once_per_space if {
	tok := testing.token({"stored_in": [_place("acme/demo", true), _place("acme/other", true), _place("acme/private", false)]})
	found := exposed_in_public_space.findings with input as testing.input_with([tok])
	{f.instance | some f in found} == {"hf_space_secret:acme/demo", "hf_space_secret:acme/other"}
	every f in found {
		f.severity == "high"
		f.evidence.can_write == false
		f.recommendation.action == "narrow"
	}
}

test_unintrospected_token_is_critical_with_access_unknown if {
	tok := testing.token({
		"grants": [],
		"introspected": false,
		"stored_in": [{"kind": "hf_space_secret", "location": "acme/demo", "public": true}],
	})
	some f in exposed_in_public_space.findings with input as testing.input_with([tok])
	f.severity == "critical"
	f.evidence.can_write == null
	contains(f.message, "(unknown access) is a secret of the public Space")
}

test_private_or_unknown_space_does_not_fire if {
	tok := testing.token({"stored_in": [_place("acme/private", false), _place("acme/unlisted", null)]})
	count(exposed_in_public_space.findings) == 0 with input as testing.input_with([tok])
}

test_variables_and_ci_secrets_are_not_this_rule if {
	tok := testing.token({"stored_in": [
		{"kind": "hf_space_variable", "location": "acme/demo", "key": "T", "public": true},
		{"kind": "github_actions_secret", "location": "acme/repo", "key": "T", "public": true},
	]})
	count(exposed_in_public_space.findings) == 0 with input as testing.input_with([tok])
}

test_expired_token_is_left_to_expired_token if {
	tok := testing.token({"stored_in": [_place("acme/demo", true)], "expires_at": "2026-01-01T00:00:00Z"})
	count(exposed_in_public_space.findings) == 0 with input as testing.input_with([tok])
}
