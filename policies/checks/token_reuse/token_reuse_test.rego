package checks.token_reuse_test

import data.checks.token_reuse
import data.lib.testing

test_token_in_two_places_fires if {
	tok := testing.token({"stored_in": [
		{"kind": "hf_space_secret", "location": "acme/demo", "key": "HF_TOKEN"},
		{"kind": "github_actions_secret", "location": "acme/src", "key": "HF_TOKEN"},
	]})
	some f in token_reuse.findings with input as testing.input_with([tok])
	f.rule_id == "token-reuse"
	testing.rule_severity(f)
	contains(f.message, "stored in 2 places: github_actions_secret acme/src, hf_space_secret acme/demo")
	count(f.recommendation.steps) == 3
}

test_one_place_even_under_two_keys_does_not_fire if {
	tok := testing.token({"stored_in": [
		{"kind": "hf_space_secret", "location": "acme/demo", "key": "HF_TOKEN"},
		{"kind": "hf_space_secret", "location": "acme/demo", "key": "HUGGING_FACE_HUB_TOKEN"},
	]})
	count(token_reuse.findings) == 0 with input as testing.input_with([tok])
}

test_expired_token_is_left_to_expired_token if {
	tok := testing.token({
		"stored_in": [{"kind": "k8s_secret", "location": "a/b"}, {"kind": "ci_variable", "location": "c/d"}],
		"expires_at": "2026-01-01T00:00:00Z",
	})
	count(token_reuse.findings) == 0 with input as testing.input_with([tok])
}
