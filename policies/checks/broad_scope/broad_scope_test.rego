package checks.broad_scope_test

import data.checks.broad_scope
import data.lib.testing

_classic := testing.token({
	"key": "github:classic_pat:1", "id": "1", "provider": "github", "kind": "classic_pat", "owner": "bob",
	"legacy": true, "scopes": ["read:org", "repo", "workflow"], "orgs": ["acme"], "expiry_supported": true,
	"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["read:org", "repo", "workflow"]}],
})

_gitlab := testing.token({
	"key": "gitlab:personal_access_token:1", "id": "1", "provider": "gitlab", "kind": "personal_access_token",
	"scopes": [
		"api", "read_user",
	],
	"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["api", "read_user"]}],
})

test_github_classic_repo_and_workflow_fire if {
	some f in broad_scope.findings with input as testing.input_with([_classic])
	f.rule_id == "broad-scope"
	testing.rule_severity(f)
	f.evidence.broad_scopes == ["repo", "workflow"]
	"contents:write" in f.evidence.narrower.repo
	f.recommendation.replacement.type == "fine_grained_pat"
}

test_gitlab_api_fires_with_narrow_alternatives if {
	some f in broad_scope.findings with input as testing.input_with([_gitlab])
	f.evidence.broad_scopes == ["api"]
	"read_api" in f.evidence.narrower.api
}

test_narrow_scopes_do_not_fire if {
	narrow := object.union(_gitlab, {"scopes": ["read_api", "read_repository"]})
	count(broad_scope.findings) == 0 with input as testing.input_with([narrow])
}

test_third_party_app_token_is_left_to_third_party_check if {
	oauth := object.union(_classic, {"kind": "oauth_app_token", "legacy": false})
	count(broad_scope.findings) == 0 with input as testing.input_with([oauth])
}

test_config_catalogue_override_adds_a_broad_scope_without_alternative if {
	tok := object.union(_classic, {"scopes": ["site_admin"]})
	cfg := {"catalogue": {"providers": {"github": {"broad_scopes": ["site_admin"]}}}}
	some f in broad_scope.findings with input as object.union(testing.input_with([tok]), {"config": cfg})
	f.evidence.narrower.site_admin == []
}

test_expired_token_gets_only_expired_token if {
	gone := object.union(_gitlab, {"expires_at": "2026-01-01T00:00:00Z"})
	count(broad_scope.findings) == 0 with input as testing.input_with([gone])
}

test_a_project_token_writing_its_own_project_is_not_broad if {
	tok := testing.token({
		"key": "gitlab:project_access_token:9", "id": "9", "provider": "gitlab", "kind": "project_access_token",
		"owner": "project_12_bot", "scopes": ["read_registry", "write_registry", "write_repository"], "access_level": 30,
		"grants": [
			{
				"resource": {
					"type": "project", "name": "acme/app",
				},
				"permissions": ["access_level:developer", "write_registry", "write_repository"],
			},
		],
	})
	count(broad_scope.findings) == 0 with input as testing.input_with([tok])
	api := object.union(tok, {"scopes": ["api"]})
	some f in broad_scope.findings with input as testing.input_with([api])
	f.evidence.broad_scopes == ["api"]
}
