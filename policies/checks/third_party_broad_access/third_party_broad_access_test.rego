package checks.third_party_broad_access_test

import data.checks.third_party_broad_access
import data.lib.testing

_oauth := testing.token({
	"key": "github:oauth_app_token:5", "id": "5", "provider": "github", "kind": "oauth_app_token", "owner": "alice",
	"org_wide": true, "scopes": ["repo", "user"], "orgs": ["acme"],
	"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["repo", "user"]}],
})

_installation := testing.token({
	"key": "github:github_app_installation:9", "id": "9", "provider": "github", "kind": "github_app_installation",
	"name": "deployer", "owner": "acme", "org_wide": true, "repository_selection": "all", "orgs": ["acme"],
	"grants": [{
		"resource": {"type": "org_repositories", "name": "acme"},
		"permissions": ["administration:write", "contents:write", "metadata:read"],
	}],
})

_org(installations) := {
	"provider": "github", "name": "acme", "members": null, "token_policy": null,
	"settings": {"installations": installations},
}

test_oauth_app_token_with_repo_fires if {
	some f in third_party_broad_access.findings with input as testing.input_with([_oauth])
	f.rule_id == "third-party-broad-access"
	f.evidence.write_permissions == ["repo", "user"]
	contains(f.recommendation.steps[1], "credential-authorizations/5")
}

test_installation_on_all_repositories_with_write_fires if {
	inp := object.union(testing.input_with([]), {"orgs": [_org([_installation])]})
	some f in third_party_broad_access.findings with input as inp
	f.subject.kind == "github_app_installation"
	f.evidence.write_permissions == ["administration:write", "contents:write"]
	f.recommendation.action == "narrow"
}

test_selected_or_read_only_installations_do_not_fire if {
	selected := object.union(_installation, {"org_wide": false, "repository_selection": "selected"})
	grant := {"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["metadata:read"]}
	read := object.union(_installation, {"grants": [grant]})
	inp := object.union(testing.input_with([]), {"orgs": [_org([selected, read])]})
	count(third_party_broad_access.findings) == 0 with input as inp
}

test_personal_tokens_are_not_third_party if {
	classic := object.union(_oauth, {"kind": "classic_pat", "legacy": true})
	count(third_party_broad_access.findings) == 0 with input as testing.input_with([classic])
}

test_expired_oauth_token_gets_only_expired_token if {
	gone := object.union(_oauth, {"expires_at": "2026-01-01T00:00:00Z"})
	count(third_party_broad_access.findings) == 0 with input as testing.input_with([gone])
}
