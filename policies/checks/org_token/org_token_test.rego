package checks.org_token_test

import data.checks.org_token
import data.lib.testing

test_org_api_token_kind_is_critical_with_replacement_from_usage if {
	tok := testing.token({
		"kind": "org_api_token", "prefix": "api_org_", "owner": "acme", "org_wide": true, "grants": [],
		"observed_usage": [{"resource": {"type": "model", "name": "acme/bert"}, "actions": ["inference"]}],
	})
	some f in org_token.findings with input as testing.input_with([tok])
	f.rule_id == "org-token"
	testing.rule_severity(f)
	contains(f.message, "kind org_api_token")
	f.recommendation.action == "replace"
	f.recommendation.replacement.scoped == []
	f.recommendation.replacement.global == ["inference.serverless.write"]
	f.recommendation.replacement.type == "user_access_token"
}

test_api_org_prefix_alone_fires if {
	tok := testing.token({"prefix": "api_org_", "introspected": false})
	some f in org_token.findings with input as testing.input_with([tok])
	contains(f.message, "prefix api_org_")
	f.evidence.introspected == false
	f.recommendation.replacement.needs_owner_input
}

test_user_token_does_not_fire if {
	count(org_token.findings) == 0 with input as testing.input_with([testing.token({})])
}

test_other_provider_org_wide_token_does_not_fire if {
	tok := testing.token({"provider": "gitlab", "kind": "group_access_token", "prefix": "glpat-", "org_wide": true})
	count(org_token.findings) == 0 with input as testing.input_with([tok])
}

test_expired_org_token_is_left_to_expired_token if {
	tok := testing.token({"kind": "org_api_token", "expires_at": "2026-01-01T00:00:00Z"})
	count(org_token.findings) == 0 with input as testing.input_with([tok])
}
