package checks.admin_permission_test

import data.checks.admin_permission
import data.lib.testing

_admin := testing.token({
	"grants": [
		{"resource": {"type": "org", "name": "acme"}, "permissions": ["org.members.write", "org.read", "org.write"]},
		{"resource": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]},
	],
	"observed_usage": [{"resource": {"type": "model", "name": "acme/bert"}, "actions": ["read"]}],
	"stored_in": [{"kind": "github_actions_secret", "location": "acme/infra", "key": "HF_TOKEN", "public": null}],
})

test_org_admin_permissions_are_critical_and_replaced_by_usage if {
	some f in admin_permission.findings with input as testing.input_with([_admin])
	f.rule_id == "admin-permission"
	testing.rule_severity(f)
	f.evidence.admin_permissions == ["org.members.write", "org.write"]
	f.evidence.on == ["org acme"]
	contains(f.message, "permissions org.members.write, org.write on org acme")
	f.recommendation.replacement.scoped == [
		{"entity": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]},
	]
	some step in f.recommendation.steps
	contains(step, "Trusted Publishers")
}

test_single_unlisted_org_write_permission_is_admin_by_prefix if {
	tok := testing.token({"grants": [], "global_permissions": ["org.newThing.write"]})
	some f in admin_permission.findings with input as testing.input_with([tok])
	f.evidence.admin_permissions == ["org.newThing.write"]
	not contains(f.message, " on ")
}

test_org_read_is_not_admin if {
	tok := testing.token({
		"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["org.read", "org.members.read"]}],
	})
	count(admin_permission.findings) == 0 with input as testing.input_with([tok])
}

test_classic_admin_scope_of_other_provider_fires if {
	tok := testing.token({"provider": "github", "kind": "classic_pat", "grants": [], "scopes": ["repo", "admin:org"]})
	some f in admin_permission.findings with input as testing.input_with([tok])
	f.evidence.admin_permissions == ["admin:org"]
	f.recommendation.replacement.needs_owner_input
}

test_expired_token_is_left_to_expired_token if {
	tok := object.union(_admin, {"expires_at": "2026-01-01T00:00:00Z"})
	count(admin_permission.findings) == 0 with input as testing.input_with([tok])
}

test_grant_declaring_admin_access_fires if {
	tok := testing.token({
		"provider": "npm",
		"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["team.manage_members"], "access": "admin"}],
	})
	some f in admin_permission.findings with input as testing.input_with([tok])
	f.evidence.admin_permissions == ["team.manage_members"]
	f.evidence.on == ["org acme"]
}

test_replacement_leaves_out_every_admin_permission if {
	tok := testing.token({"provider": "github", "kind": "classic_pat", "grants": [], "scopes": ["repo", "admin:org"]})
	some f in admin_permission.findings with input as testing.input_with([tok])
	granted := {sprintf("%s:%s", [name, level]) |
		some entries in f.recommendation.replacement.permissions
		some name, level in entries
	}
	"contents:write" in granted
	every p in granted {
		p != "organization_administration:write"
		p != "members:write"
	}
}

test_gitlab_owner_role_becomes_maintainer_at_most if {
	tok := testing.token({
		"provider": "gitlab", "kind": "group_access_token", "grants": [],
		"scopes": ["api", "sudo"], "access_level": 50,
		"observed_usage": [{"resource": {"type": "project", "name": "acme/app"}, "actions": ["write"]}],
	})
	some f in admin_permission.findings with input as testing.input_with([tok])
	not "sudo" in f.recommendation.replacement.scopes
	f.recommendation.replacement.access_level <= 40
}
