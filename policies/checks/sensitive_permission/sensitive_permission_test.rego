package checks.sensitive_permission_test

import data.checks.sensitive_permission
import data.lib.testing

test_spend_permissions_fire_and_narrow_to_the_rest if {
	tok := testing.token({"grants": [
		{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["inference.endpoints.write", "user.billing.read"]},
		{"resource": {"type": "model", "name": "jdoe/bert"}, "permissions": ["repo.content.read"]},
	]})
	some f in sensitive_permission.findings with input as testing.input_with([tok])
	f.rule_id == "sensitive-permission"
	testing.rule_severity(f)
	f.evidence.sensitive_permissions == ["inference.endpoints.write", "user.billing.read"]
	contains(f.message, "permissions inference.endpoints.write, user.billing.read")
	f.recommendation.action == "narrow"
	f.recommendation.replacement.grants == [
		{"resource": {"type": "model", "name": "jdoe/bert"}, "permissions": ["repo.content.read"]},
	]
	f.recommendation.replacement.removed == ["inference.endpoints.write", "user.billing.read"]
}

test_global_sensitive_permission_fires if {
	tok := testing.token({"global_permissions": ["job.write", "discussion.write"]})
	some f in sensitive_permission.findings with input as testing.input_with([tok])
	contains(f.message, "permission job.write")
	f.recommendation.replacement.global_permissions == ["discussion.write"]
}

test_plain_repo_permissions_do_not_fire if {
	tok := testing.token({
		"grants": [{"resource": {"type": "model", "name": "a/b"}, "permissions": ["repo.content.read", "repo.write"]}],
	})
	count(sensitive_permission.findings) == 0 with input as testing.input_with([tok])
}

test_expired_token_is_left_to_expired_token if {
	tok := testing.token({"global_permissions": ["job.write"], "expires_at": "2026-01-01T00:00:00Z"})
	count(sensitive_permission.findings) == 0 with input as testing.input_with([tok])
}

test_a_narrowed_classic_token_never_keeps_admin_scopes if {
	tok := testing.token({
		"key": "github:classic_pat:1", "id": "1", "provider": "github", "kind": "classic_pat", "legacy": true,
		"scopes": ["admin:org", "delete_repo", "repo", "workflow"],
		"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["admin:org", "delete_repo", "repo", "workflow"]}],
	})
	some f in sensitive_permission.findings with input as testing.input_with([tok])
	f.evidence.sensitive_permissions == ["workflow"]
	f.recommendation.replacement.scopes == ["repo"]
	f.recommendation.replacement.grants == [{"resource": {"type": "org", "name": "acme"}, "permissions": ["repo"]}]
	f.recommendation.replacement.removed == ["admin:org", "delete_repo", "workflow"]
}
