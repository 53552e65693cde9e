package checks.org_wide_token_test

import data.checks.org_wide_token
import data.lib.testing

_all_repos := testing.token({
	"key": "github:fine_grained_pat:7", "id": "7", "provider": "github", "kind": "fine_grained_pat",
	"owner": "ci-bot", "org_wide": true, "repository_selection": "all", "orgs": ["acme"], "expiry_supported": true,
	"grants": [{"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:write", "metadata:read"]}],
})

_group := testing.token({
	"key": "gitlab:group_access_token:3", "id": "3", "provider": "gitlab", "kind": "group_access_token",
	"owner": "group_3_bot", "org_wide": true, "scopes": ["write_repository"], "orgs": ["gitlab.example.com"],
	"grants": [{"resource": {"type": "group", "name": "acme"}, "permissions": ["access_level:maintainer", "write_repository"]}],
})

test_github_all_repositories_with_write_fires if {
	some f in org_wide_token.findings with input as testing.input_with([_all_repos])
	f.rule_id == "org-wide-token"
	f.evidence.reach == ["org_repositories acme"]
	f.evidence.repository_selection == "all"
	f.recommendation.replacement.needs_owner_input
}

test_gitlab_group_token_with_write_scope_fires if {
	some f in org_wide_token.findings with input as testing.input_with([_group])
	f.evidence.access == "write"
}

test_read_only_org_wide_does_not_fire if {
	grant := {"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:read"]}
	read := object.union(_all_repos, {"grants": [grant]})
	count(org_wide_token.findings) == 0 with input as testing.input_with([read])
}

test_legacy_and_third_party_are_judged_elsewhere if {
	legacy := object.union(_all_repos, {"legacy": true})
	oauth := object.union(_all_repos, {"kind": "oauth_app_token"})
	count(org_wide_token.findings) == 0 with input as testing.input_with([legacy, oauth])
}

test_reach_falls_back_to_orgs if {
	bare := object.union(_all_repos, {"provider": "npm", "grants": [], "scopes": ["publish:write"]})
	some f in org_wide_token.findings with input as testing.input_with([bare])
	f.evidence.reach == ["acme"]
}

test_expired_token_gets_only_expired_token if {
	gone := object.union(_group, {"expires_at": "2026-01-01T00:00:00Z"})
	count(org_wide_token.findings) == 0 with input as testing.input_with([gone])
}

_projects_only := object.union(_all_repos, {"grants": [
	{"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:read", "metadata:read"]},
	{"resource": {"type": "org", "name": "acme"}, "permissions": ["organization_projects:admin"]},
]})

test_an_organization_projects_write_does_not_write_every_repository if {
	count(org_wide_token.findings) == 0 with input as testing.input_with([_projects_only])
}

test_a_catalogue_can_count_any_write_of_an_org_wide_token if {
	github := object.union(data.token_auditor.catalogue.providers.github, {"org_wide_any_write": true})
	inp := object.union(testing.input_with([_projects_only]), {"config": {"catalogue": {"providers": object.union(
		data.token_auditor.catalogue.providers,
		{"github": github},
	)}}})
	count(org_wide_token.findings) == 1 with input as inp
}

test_read_only_all_repositories_token_does_not_fire if {
	tok := object.union(_all_repos, {"grants": [
		{"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:read", "metadata:read"]},
	]})
	count(org_wide_token.findings) == 0 with input as testing.input_with([tok])
}

test_provider_without_wide_resource_types_uses_any_write if {
	grant := {"resource": {"type": "scope", "name": "@acme"}, "permissions": ["publish:write"]}
	tok := object.union(_all_repos, {"provider": "npm", "grants": [grant]})
	count(org_wide_token.findings) == 1 with input as testing.input_with([tok])
}

test_gitlab_owner_role_with_read_scopes_is_not_org_wide_write if {
	grant := {"resource": {"type": "group", "name": "acme"}, "permissions": ["access_level:owner", "read_api"]}
	tok := object.union(_group, {"scopes": ["read_api"], "grants": [grant]})
	count(org_wide_token.findings) == 0 with input as testing.input_with([tok])
}
