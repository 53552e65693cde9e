package checks.unknown_permission_test

import data.checks.unknown_permission
import data.lib.testing

_gitlab := testing.token({
	"key": "gitlab:personal_access_token:1", "id": "1", "provider": "gitlab", "kind": "personal_access_token",
	"scopes": ["read_api", "admin_quantum"],
	"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["read_api", "admin_quantum"]}],
})

test_unknown_scope_is_reported_with_its_rating if {
	some f in unknown_permission.findings with input as testing.input_with([_gitlab])
	f.rule_id == "unknown-permission"
	f.instance == "permissions"
	f.evidence.unknown == ["admin_quantum"]
	contains(f.message, "admin_quantum as admin")
}

test_unknown_credential_type_is_reported if {
	tok := testing.token({
		"key": "github:unknown_credential:3", "id": "3", "provider": "github", "kind": "unknown_credential",
		"credential_type": "passkey token", "grants": [],
	})
	some f in unknown_permission.findings with input as testing.input_with([tok])
	f.instance == "kind"
	f.evidence.credential_type == "passkey token"
}

test_unknown_installation_permission_is_reported if {
	app := testing.token({
		"key": "github:github_app_installation:9", "id": "9", "provider": "github", "kind": "github_app_installation",
		"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["contents:read", "teleport:read", "x:write"]}],
	})
	org := {"provider": "github", "name": "acme", "members": null, "token_policy": null, "settings": {"installations": [app]}}
	some f in unknown_permission.findings with input as object.union(testing.input_with([]), {"orgs": [org]})
	f.evidence.unknown == ["teleport:read", "x:write"]
	contains(f.recommendation.summary, "grant and add them")
}

test_known_permissions_and_providers_without_the_flag_do_not_fire if {
	known := object.union(_gitlab, {"scopes": ["read_api"], "grants": []})
	count(unknown_permission.findings) == 0 with input as testing.input_with([known, testing.token({})])
}

test_expired_token_gets_only_expired_token if {
	gone := object.union(_gitlab, {"expires_at": "2026-01-01T00:00:00Z"})
	count(unknown_permission.findings) == 0 with input as testing.input_with([gone])
}
