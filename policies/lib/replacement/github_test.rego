package lib.replacement_test

import data.lib.replacement
import data.lib.testing

_classic := testing.token({
	"key": "github:classic_pat:1", "id": "1", "provider": "github", "kind": "classic_pat", "name": "laptop",
	"owner": "bob", "legacy": true, "scopes": ["admin:org", "repo"], "orgs": ["acme"], "prefix": "ghp_",
	"last4": "71c3fc11", "masked": "ghp_…71c3fc11",
	"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["admin:org", "repo"]}],
})

test_github_classic_with_usage_gets_subset_of_repos_and_only_used_permissions if {
	usage := [
		{"resource": {"type": "repository", "name": "acme/web"}, "actions": ["read"]},
		{"resource": {"type": "repository", "name": "acme/api"}, "actions": ["push", "pull_request", "workflow"]},
	]
	s := replacement.spec(object.union(_classic, {"observed_usage": usage})) with input as testing.input_with([])
	s.type == "fine_grained_pat"
	s.repository_selection == "subset"
	s.repositories == ["acme/api", "acme/web"]

	# workflow is not implied by the scopes (repo, admin:org): never granted
	s.permissions == {"repository": {"contents": "write", "metadata": "read", "pull_requests": "write"}}
	s.expires_at == "2027-02-23"
	not s.needs_owner_input
	not s.github_app_recommended
}

test_github_usage_never_raises_a_fine_grained_level if {
	tok := testing.token({
		"key": "github:fine_grained_pat:2", "id": "2", "provider": "github", "kind": "fine_grained_pat",
		"owner": "alice", "orgs": ["acme"], "org_wide": true,
		"grants": [{"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:read", "metadata:read"]}],
		"observed_usage": [{"resource": {"type": "repository", "name": "acme/api"}, "actions": ["push"]}],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.permissions.repository == {"contents": "read", "metadata": "read"}
	s.derived_from == "observed_usage"
}

test_github_without_usage_asks_the_owner_and_maps_scopes if {
	s := replacement.spec(_classic) with input as testing.input_with([])
	s.needs_owner_input
	s.derived_from == "scopes"

	# admin:org's organization administration and members: write are never carried; its Projects level is not administration
	s.permissions.organization == {"organization_projects": "admin"}
	s.permissions.repository.contents == "write"
	contains(s.question, "Which repositories of acme")
	not contains(s.question, "organization_administration")
}

test_github_org_automation_gets_a_github_app_step if {
	place := {"kind": "github_actions_secret", "location": "acme/api", "key": "TOKEN", "public": null}
	tok := object.union(_classic, {"stored_in": [place]})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.github_app_recommended
	steps := replacement.steps(tok, s) with input as testing.input_with([])
	contains(steps[1], "GitHub App installed on acme")
	contains(steps[2], "github_actions_secret acme/api (TOKEN)")
	contains(steps[3], "credential-authorizations/1")
}

test_github_revoke_step_by_kind if {
	grant := object.union(_classic, {"kind": "fine_grained_pat", "scopes": [], "native": {"id": 25381}})
	grant_steps := replacement.steps(grant, replacement.spec(grant)) with input as testing.input_with([])
	contains(grant_steps[1], "personal-access-tokens/25381")
	request := object.union(grant, {"kind": "fine_grained_pat_request"})
	request_steps := replacement.steps(request, replacement.spec(request)) with input as testing.input_with([])
	contains(request_steps[1], "personal-access-token-requests/1 with action deny")

	# the org's PAT endpoints answer only GitHub App installation tokens
	contains(grant_steps[1], "with a GitHub App installation token holding organization_personal_access_tokens: write")
	contains(request_steps[1], "https://github.com/organizations/acme/settings/personal-access-token-requests")
}

test_github_unmappable_scopes_say_so if {
	tok := object.union(_classic, {"scopes": ["site_admin"], "grants": [], "orgs": []})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.resource_owner == "bob"
	contains(s.question, "none the catalogue can map")
	steps := replacement.steps(tok, s) with input as testing.input_with([])
	contains(steps[0], "permissions to be agreed with the owner")
}

test_github_without_usage_starts_from_the_repositories_granted_today if {
	tok := testing.token({
		"key": "github:fine_grained_pat:4", "id": "4", "provider": "github", "kind": "fine_grained_pat",
		"owner": "carol", "orgs": ["acme"],
		"grants": [{"resource": {"type": "repository", "name": "acme/infra"}, "permissions": ["metadata:read", "secrets:write"]}],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.needs_owner_input
	s.repositories == ["acme/infra"]
	steps := replacement.steps(tok, s) with input as testing.input_with([])
	contains(steps[0], "needs (today: acme/infra)")
}

test_workflow_alone_does_not_grant_contents_write if {
	tok := object.union(_classic, {
		"scopes": ["workflow"], "grants": [],
		"observed_usage": [{"resource": {"type": "repository", "name": "acme/api"}, "actions": ["workflow", "push"]}],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.permissions == {"repository": {"workflows": "write"}}
}

test_packages_scopes_keep_a_classic_pat_with_read_packages_only if {
	tok := object.union(_classic, {"scopes": ["repo", "write:packages"], "grants": []})
	s := replacement.spec(tok) with input as testing.input_with([])
	not s.permissions.repository.packages
	s.also == [{
		"provider": "github", "type": "classic_pat", "scopes": ["read:packages"],
		"expires_in_days": 90, "expires_at": "2027-02-23",
		"purpose": concat("; ", [
			"GitHub Packages registries accept only personal access tokens (classic)",
			"inside GitHub Actions use GITHUB_TOKEN instead",
		]),
	}]
	steps := replacement.steps(tok, s) with input as testing.input_with([])
	startswith(steps[1], "Create a personal access token (classic) at https://github.com/settings/tokens/new")
	contains(steps[1], "with only read:packages, expiring by 2027-02-23")
	only := object.union(_classic, {
		"scopes": ["read:packages", "write:packages"], "grants": [],
		"observed_usage": [{"resource": {"type": "repository", "name": "acme/api"}, "actions": ["packages_write"]}],
	})
	p := replacement.spec(only) with input as testing.input_with([])
	p.type == "classic_pat"
	p.scopes == ["read:packages", "write:packages"]
}

test_a_fine_grained_packages_permission_is_never_proposed if {
	tok := testing.token({
		"key": "github:fine_grained_pat:8", "id": "8", "provider": "github", "kind": "fine_grained_pat", "owner": "bob",
		"orgs": ["acme"],
		"grants": [{"resource": {"type": "repository", "name": "acme/api"}, "permissions": ["contents:read", "packages:write"]}],
		"observed_usage": [{"resource": {"type": "repository", "name": "acme/api"}, "actions": ["read", "packages_write"]}],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.permissions == {"repository": {"contents": "read"}}
	contains(s.packages_note, "inside GitHub Actions use GITHUB_TOKEN; elsewhere a classic PAT with read:packages only")
}
