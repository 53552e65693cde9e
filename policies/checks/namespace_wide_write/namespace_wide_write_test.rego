package checks.namespace_wide_write_test

import data.checks.namespace_wide_write
import data.lib.testing

_wide := testing.token({"grants": [
	{"resource": {"type": "org", "name": "acme"}, "permissions": ["repo.content.read", "repo.write"]},
	{"resource": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]},
]})

test_repo_write_on_org_fires_high if {
	some f in namespace_wide_write.findings with input as testing.input_with([_wide])
	f.rule_id == "namespace-wide-write"
	testing.rule_severity(f)
	contains(f.message, "org acme")
	f.evidence.namespaces == [{"type": "org", "name": "acme"}]
	f.evidence.permissions == ["repo.write"]
	f.recommendation.action == "replace"
	f.recommendation.replacement.needs_owner_input
}

test_a_space_token_needs_what_the_space_loads_not_the_space if {
	tok := object.union(_wide, {
		"stored_in": [{"kind": "hf_space_secret", "location": "acme/demo", "key": "HF_TOKEN", "public": false}],
	})
	some f in namespace_wide_write.findings with input as testing.input_with([tok])
	f.recommendation.replacement.derived_from == "storage"
	f.recommendation.replacement.scoped == []
	f.recommendation.replacement.needs_owner_input
	f.recommendation.replacement.question == concat(" ", [
		"token \"ci-publish\" runs in the Space acme/demo: which models and datasets does it load (or push to)?",
		"Grant read on those only, not on the Space",
	])
}

test_read_on_namespace_does_not_fire if {
	tok := testing.token({"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["repo.content.read"]}]})
	count(namespace_wide_write.findings) == 0 with input as testing.input_with([tok])
}

test_discussion_write_on_namespace_does_not_fire if {
	tok := testing.token({"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["discussion.write"]}]})
	count(namespace_wide_write.findings) == 0 with input as testing.input_with([tok])
}

test_write_on_one_repo_does_not_fire if {
	tok := testing.token({"grants": [{"resource": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.write"]}]})
	count(namespace_wide_write.findings) == 0 with input as testing.input_with([tok])
}

test_legacy_token_is_left_to_legacy_token if {
	tok := testing.token({
		"legacy": true,
		"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["role.write"]}],
	})
	count(namespace_wide_write.findings) == 0 with input as testing.input_with([tok])
}

test_provider_without_write_list_uses_write_level if {
	tok := testing.token({
		"provider": "gitlab",
		"grants": [{"resource": {"type": "group", "name": "acme"}, "permissions": ["write_repository"]}],
	})
	cat := {"providers": {"gitlab": {"namespace_types": ["group"]}}}
	inp := object.union(testing.input_with([tok]), {"config": {"catalogue": cat}})
	some f in namespace_wide_write.findings with input as inp
	f.evidence.permissions == ["write_repository"]
}

test_expired_token_is_left_to_expired_token if {
	tok := object.union(_wide, {"expires_at": "2026-01-01T00:00:00Z"})
	count(namespace_wide_write.findings) == 0 with input as testing.input_with([tok])
}
