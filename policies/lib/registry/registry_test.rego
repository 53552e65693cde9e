package lib.registry_test

import data.lib.registry
import data.lib.testing
import data.token_auditor.main

_inp := testing.input_with([])

_gh(overrides) := testing.token(object.union(
	{
		"provider": "github", "kind": "classic_pat", "legacy": true, "prefix": "ghp_", "owner": "bob",
		"created_at": "2025-01-01T00:00:00Z", "grants": [], "orgs": ["acme"],
	},
	overrides,
))

_gl(overrides) := testing.token(object.union(
	{
		"provider": "gitlab", "kind": "group_access_token", "prefix": "glpat-", "owner": "group_9_bot",
		"created_at": "2025-01-01T00:00:00Z", "grants": [], "orgs": ["acme"],
	},
	overrides,
))

_use(type, name, actions) := [{"resource": {"type": type, "name": name}, "actions": actions}]

_grant(type, name, permissions) := [{"resource": {"type": type, "name": name}, "permissions": permissions}]

_secret(kind, location) := [{"kind": kind, "location": location, "key": "TOKEN", "public": true}]

# Over-broad tokens of every provider and kind: every check fires on some of them.
_tokens := [
	_gh({
		"id": "1", "key": "github:classic_pat:1", "name": "deploy-bot",
		"scopes": ["admin:org", "delete_repo", "repo", "workflow", "write:packages"],
		"stored_in": _secret("github_actions_secret", "acme/api"),
	}),
	_gh({
		"id": "2", "key": "github:classic_pat:2", "scopes": ["read:packages", "write:packages"],
		"observed_usage": _use("repository", "acme/api", ["packages_write"]),
	}),
	_gh({
		"id": "3", "key": "github:fine_grained_pat:3", "kind": "fine_grained_pat", "legacy": false, "org_wide": true,
		"prefix": "github_pat_",
		"grants": _grant("org_repositories", "acme", [
			"administration:write", "contents:write", "metadata:read", "packages:write", "secrets:write",
		]),
		"observed_usage": _use("repository", "acme/api", ["push", "packages_write"]),
	}),
	_gh({
		"id": "4", "key": "github:classic_pat:4", "scopes": ["workflow"],
		"observed_usage": _use("repository", "acme/api", ["workflow"]),
	}),
	_gl({
		"id": "5", "key": "gitlab:group_access_token:5", "scopes": ["api", "write_registry"], "access_level": 50,
		"org_wide": true,
	}),
	_gl({
		"id": "6", "key": "gitlab:project_access_token:6", "kind": "project_access_token", "scopes": ["api"],
		"access_level": 40, "observed_usage": _use("project", "acme/app", ["registry_write", "push"]),
	}),
	_gl({
		"id": "7", "key": "gitlab:personal_access_token:7", "kind": "personal_access_token", "owner": "alice",
		"scopes": ["api", "sudo", "read_user"],
	}),
	testing.token({
		"id": "8", "key": "huggingface:user_access_token:8", "legacy": true,
		"grants": _grant("user", "jdoe", ["role.write"]), "stored_in": _secret("hf_space_secret", "acme/demo"),
	}),
	testing.token({
		"id": "9", "key": "huggingface:user_access_token:9",
		"grants": _grant("org", "acme", ["org.write", "repo.write", "inference.serverless.write"]),
		"global_permissions": ["inference.serverless.write"],
		"observed_usage": _use("model", "acme/bert", ["write", "inference"]),
	}),
	testing.token({
		"id": "10", "key": "huggingface:service_account_token:10", "kind": "service_account_token", "owner": "acme-bot",
		"grants": _grant("org", "acme", ["repo.write", "org.members.write"]),
	}),
	testing.token({
		"id": "11", "key": "huggingface:org_api_token:11", "kind": "org_api_token", "legacy": true, "org_wide": true,
		"prefix": "api_org_", "owner": "acme", "grants": _grant("org", "acme", ["role.write"]),
	}),
	testing.token({
		"id": "12", "key": "npm:classic:12", "provider": "npm", "kind": "classic", "legacy": true, "grants": [],
		"scopes": ["publish"],
	}),
]

_findings := fs if {
	# regal ignore:with-outside-test-context
	fs := main.findings with input as object.union(_inp, {"tokens": _tokens})
}

test_the_broad_tokens_get_replacements if {
	count({f.subject.key | some f in _findings; f.recommendation.action == "replace"}) >= 10
}

test_every_replacement_is_creatable if {
	problems := {[f.rule_id, f.subject.key, p] |
		some f in _findings
		is_object(f.recommendation.replacement)
		some p in registry.problems(f.recommendation.replacement) with input as _inp
	}
	problems == set()
}

test_every_step_names_only_registry_endpoints if {
	problems := {[f.rule_id, p] |
		some f in _findings
		some p in registry.step_problems(f.subject.provider, f.recommendation.steps) with input as _inp
	}
	problems == set()
}

test_catalogues_name_only_registry_entries if {
	every provider in ["github", "gitlab", "huggingface"] {
		registry.catalogue_problems(provider) == set() with input as _inp
	}
}

test_a_catalogue_entry_the_provider_lacks_is_reported if {
	inp := object.union(_inp, {"config": {"catalogue": {"providers": {
		"github": object.union(data.token_auditor.catalogue.providers.github, {
			"permissions": {"custom_properties_for_repositories:read": "read", "profile:read": "read"},
			"usage_permissions": {"workflow": {"workflows": "read"}},
			"sensitive": ["workflows:admin"],
		}),
		"gitlab": object.union(data.token_auditor.catalogue.providers.gitlab, {"scopes": {"read_everything": "read"}}),
		"huggingface": object.union(data.token_auditor.catalogue.providers.huggingface, {"permissions": {"model.delete": "write"}}),
	}}}})
	registry.catalogue_problems("github") == {
		"github catalogue permission custom_properties_for_repositories:read is not in the registry",
		"github catalogue permission profile:read is not in the registry",
		"github catalogue usage workflow names workflows:read, not in the registry",
		"github catalogue sensitive entry workflows:admin is not in the registry",
	} with input as inp
	registry.catalogue_problems("gitlab") == {"gitlab catalogue scope read_everything is not in the registry"} with input as inp
	hf := registry.catalogue_problems("huggingface") with input as inp
	hf == {"huggingface catalogue permission model.delete is not in the registry"}
}

test_github_refusals if {
	registry.problems({
		"provider": "github", "type": "fine_grained_pat",
		"permissions": {
			"account": {"profile": "read"},
			"repository": {
				"packages": "read", "custom_properties_for_repositories": "read", "administration": "write", "members": "read",
			},
		},
		"also": [{"provider": "github", "type": "classic_pat", "scopes": ["read:packages", "admin:org", "write:everything"]}],
	}) == {
		"github permission profile has no level read",
		"github packages: GitHub Packages registries accept only classic PATs",
		"github permission custom_properties_for_repositories does not exist",
		"github administration:write is admin-rated",
		"github permission members is a organization permission, not repository",
		"github scope admin:org is admin-rated",
		"github scope write:everything does not exist",
	} with input as _inp
	key := registry.problems({"provider": "github", "type": "deploy_key"}) with input as _inp
	key == {"github token type deploy_key does not exist"}
}

test_projects_admin_levels_are_offered_and_not_admin_rated if {
	registry.problems({
		"provider": "github", "type": "fine_grained_pat",
		"permissions": {"organization": {"organization_projects": "admin"}, "repository": {"repository_projects": "admin"}},
	}) == set() with input as _inp
}

test_gitlab_refusals if {
	project := {"provider": "gitlab", "type": "project_access_token", "access_level": 50}
	registry.problems(object.union(project, {"scopes": ["write_registry", "sudo", "read_virtual_registry"]})) == {
		"gitlab access level 50 (owner) is admin-rated",
		"gitlab project_access_token does not accept scope sudo",
		"gitlab project_access_token does not accept scope read_virtual_registry",
		"gitlab project_access_token with write_registry also needs read_registry",
		"gitlab scope sudo is admin-rated",
	} with input as _inp
	gl := {"provider": "gitlab", "type": "group_access_token", "scopes": ["read_api"], "access_level": 30}
	personal := registry.problems(object.union(gl, {"type": "personal_access_token"})) with input as _inp
	personal == {"gitlab personal_access_token has no access level"}
	level := registry.problems(object.union(gl, {"access_level": 35})) with input as _inp
	level == {"gitlab access level 35 does not exist"}
	deploy := registry.problems(object.union(gl, {"type": "deploy_token"})) with input as _inp
	deploy == {"gitlab token type deploy_token does not exist"}
	registry.problems(object.union(gl, {"scopes": ["read_registry", "write_registry"]})) == set() with input as _inp
}

test_huggingface_refusals if {
	registry.problems({
		"provider": "huggingface", "type": "user_access_token",
		"scoped": [
			{
				"entity": {
					"type": "model", "name": "acme/bert",
				},
				"permissions": ["inference.serverless.write", "repo.content.read"],
			},
			{"entity": {"type": "org", "name": "acme"}, "permissions": ["org.members.write", "model.delete"]},
			{"entity": {"type": "notebook", "name": "x"}, "permissions": ["repo.content.read"]},
		],
		"global": ["org.read"],
	}) == {
		"huggingface permission inference.serverless.write cannot be granted on a repo",
		"huggingface permission org.members.write is admin-rated",
		"huggingface permission model.delete does not exist",
		"huggingface entity type notebook does not exist",
		"huggingface permission org.read cannot be granted on a global",
	} with input as _inp
	org := registry.problems({"provider": "huggingface", "type": "org_api_token", "scoped": []}) with input as _inp
	org == {"huggingface org_api_token can no longer be created"}
	classic := registry.problems({"provider": "huggingface", "type": "hf_classic"}) with input as _inp
	classic == {"huggingface token type hf_classic does not exist"}
	registry.problems({"provider": "npm", "needs_owner_input": true}) == set() with input as _inp
}

test_steps_naming_unknown_endpoints_are_reported if {
	gitlab := registry.step_problems("gitlab", [
		"POST /groups/:id/access_tokens/self/rotate",
		"POST /personal_access_tokens/self/rotatex",
	])
	gitlab == {"gitlab endpoint POST /personal_access_tokens/self/rotatex is not in the registry"}
	github := registry.step_problems("github", [
		"Revoke: POST /orgs/acme/personal-access-tokens/12 with action revoke.",
		"PUT /orgs/acme/personal-access-tokens/12",
	])
	github == {"github endpoint PUT /orgs/acme/personal-access-tokens/12 is not in the registry"}
	npm := registry.step_problems("npm", ["DELETE /-/npm/v1/tokens/token/abc"])
	npm == {"npm endpoint DELETE /-/npm/v1/tokens/token/abc is not in the registry"}
}
