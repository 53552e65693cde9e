package checks.token_in_variable_test

import data.checks.token_in_variable
import data.lib.testing

test_token_stored_as_variable_is_critical if {
	tok := testing.token({"stored_in": [{"kind": "hf_space_variable", "location": "acme/demo", "key": "HF_TOKEN", "public": false}]})
	some f in token_in_variable.findings with input as testing.input_with([tok])
	f.rule_id == "token-in-variable"
	testing.rule_severity(f)
	f.subject.type == "token"
	f.instance == "hf_space_variable:acme/demo#HF_TOKEN"
	contains(f.message, "variable HF_TOKEN of acme/demo")
	f.recommendation.action == "rotate"
}

test_variable_without_key_is_named_unnamed if {
	tok := testing.token({"stored_in": [{"kind": "hf_space_variable", "location": "acme/demo"}]})
	some f in token_in_variable.findings with input as testing.input_with([tok])
	contains(f.message, "variable (unnamed)")
}

test_token_like_variable_value_is_a_location_finding if {
	loc := {
		"provider": "huggingface", "kind": "hf_space", "name": "acme/demo", "public": true,
		"token_like_variables": ["API_KEY", "OTHER"], "source": {"file": "inv.yaml", "pointer": "/spaces/0"},
	}
	inp := object.union(testing.input_with([]), {"locations": [loc]})
	found := token_in_variable.findings with input as inp
	count(found) == 2
	some f in found
	f.instance == "API_KEY"
	testing.rule_severity(f)
	f.subject.type == "location"
	f.subject.key == "location:huggingface:hf_space:acme/demo"
	f.subject.source == {"file": "inv.yaml", "pointer": "/spaces/0"}
	contains(f.message, "variable API_KEY of hf_space acme/demo holds a token value, readable by anyone")
}

test_private_location_without_provider if {
	loc := {"kind": "hf_space", "name": "acme/p", "public": false, "token_like_variables": ["K"]}
	some f in token_in_variable.findings with input as object.union(testing.input_with([]), {"locations": [loc]})
	f.subject.key == "location:any:hf_space:acme/p"
	not contains(f.message, "anyone")
}

test_secrets_and_clean_locations_do_not_fire if {
	tok := testing.token({"stored_in": [{"kind": "hf_space_secret", "location": "acme/demo", "key": "HF_TOKEN", "public": true}]})
	loc := {"provider": "huggingface", "kind": "hf_space", "name": "acme/demo", "public": true, "token_like_variables": []}
	count(token_in_variable.findings) == 0 with input as object.union(testing.input_with([tok]), {"locations": [loc]})
}

test_expired_token_is_left_to_expired_token if {
	tok := testing.token({
		"stored_in": [{"kind": "hf_space_variable", "location": "acme/demo", "key": "HF_TOKEN"}],
		"expires_at": "2026-01-01T00:00:00Z",
	})
	count(token_in_variable.findings) == 0 with input as testing.input_with([tok])
}
