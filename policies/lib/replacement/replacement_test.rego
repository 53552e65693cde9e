package lib.replacement_test

import data.lib.replacement
import data.lib.testing

_legacy := testing.token({
	"legacy": true,
	"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["role.write"]}],
})

test_storage_place_without_key_still_named_in_steps if {
	tok := object.union(_legacy, {"stored_in": [{"kind": "other", "location": "vault/ml", "public": null}]})
	s := replacement.spec(tok) with input as testing.input_with([])
	steps := replacement.steps(tok, s) with input as testing.input_with([])
	some step in steps
	contains(step, "other vault/ml")
}

test_usage_with_no_mappable_action_asks_the_owner if {
	usage := [{"resource": {"type": "model", "name": "acme/bert"}, "actions": ["push"]}]
	s := replacement.spec(object.union(_legacy, {"observed_usage": usage})) with input as testing.input_with([])
	s.needs_owner_input == true
	s.scoped == []
}

test_admin_permissions_never_reach_a_hugging_face_spec if {
	tok := testing.token({
		"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["org.write", "repo.content.read"]}],
		"observed_usage": [{"resource": {"type": "org", "name": "acme"}, "actions": ["read"]}],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.scoped == [{"entity": {"type": "org", "name": "acme"}, "permissions": ["repo.content.read"]}]
}

test_gitlab_read_only_proposal_keeps_no_write_scope if {
	tok := testing.token({
		"provider": "gitlab", "kind": "personal_access_token", "grants": [],
		"scopes": ["api", "k8s_proxy", "write_registry"], "expiry_supported": true,
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	every scope in s.scopes {
		not startswith(scope, "write_")
		scope != "api"
	}
}

test_write_is_recommended_only_where_the_token_writes_today if {
	tok := testing.token({
		"grants": [
			{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["repo.write"]},
			{"resource": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]},
		],
		"observed_usage": [
			{"resource": {"type": "model", "name": "acme/bert"}, "actions": ["write"]},
			{"resource": {"type": "model", "name": "jdoe/tiny"}, "actions": ["write"]},
			{"resource": {"type": "user", "name": "jdoe"}, "actions": ["write"]},
		],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.scoped == [
		{"entity": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]},
		{"entity": {"type": "model", "name": "jdoe/tiny"}, "permissions": ["repo.content.read", "repo.write"]},
		{"entity": {"type": "user", "name": "jdoe"}, "permissions": ["repo.content.read"]},
	]
}

test_legacy_write_token_keeps_write_where_usage_shows_it if {
	usage := [{"resource": {"type": "dataset", "name": "other-org/data"}, "actions": ["write"]}]
	s := replacement.spec(object.union(_legacy, {"observed_usage": usage})) with input as testing.input_with([])
	s.scoped == [{"entity": {"type": "dataset", "name": "other-org/data"}, "permissions": ["repo.content.read", "repo.write"]}]
}

test_an_oauth_app_token_is_narrowed_at_the_app_not_replaced_by_a_pat if {
	tok := testing.token({
		"key": "github:oauth_app_token:5", "id": "5", "provider": "github", "kind": "oauth_app_token", "owner": "alice",
		"scopes": ["admin:org", "repo"], "grants": [], "orgs": ["acme"], "prefix": "gho_",
	})
	r := replacement.recommend_replacement(tok, "Replace it") with input as testing.input_with([])
	r.action == "narrow"
	r.replacement == null
	r.summary == "Narrow the oauth app token's authorization instead: a personal token does not replace an app"
	r.steps[0] == "Ask alice what the app behind token \"ci-publish\" does with admin:org, repo"
}
