package lib.replacement_test

import data.lib.replacement
import data.lib.testing

_group := testing.token({
	"key": "gitlab:group_access_token:3", "id": "3", "provider": "gitlab", "kind": "group_access_token",
	"name": "group-deploy", "owner": "group_3_bot", "org_wide": true, "scopes": ["api", "read_user"],
	"access_level": 50, "prefix": "glpat-", "last4": null, "masked": "glpat-…",
	"grants": [{"resource": {"type": "group", "name": "acme"}, "permissions": ["access_level:owner", "api", "read_user"]}],
})

test_gitlab_usage_gives_narrowest_scopes_and_lowest_role if {
	usage := [
		{"resource": {"type": "project", "name": "acme/app"}, "actions": ["read", "registry_write"]},
		{"resource": {"type": "project", "name": "acme/lib"}, "actions": ["push"]},
	]
	s := replacement.spec(object.union(_group, {"observed_usage": usage})) with input as testing.input_with([])

	# api on a group token gives no Git over HTTP, so read/push usage adds no repository scope;
	# GitLab requires read_registry beside write_registry on group and project tokens
	s.scopes == ["read_registry", "self_rotate", "write_registry"]
	s.access_level == 30
	s.token_type == "group_access_token"
	s.self_rotate
	s.expires_at == "2027-02-23"
	not s.needs_owner_input
}

test_gitlab_usage_cannot_add_a_scope_or_raise_the_role if {
	tok := object.union(_group, {
		"scopes": ["read_repository"], "access_level": 20,
		"observed_usage": [{"resource": {"type": "project", "name": "acme/app"}, "actions": ["read", "push"]}],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.scopes == ["read_repository", "self_rotate"]
	s.access_level == 20
}

test_gitlab_without_usage_proposes_read_only_and_asks if {
	tok := object.union(_group, {"scopes": ["api", "read_user", "sudo", "write_registry"]})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.needs_owner_input

	# read_user and sudo do not exist on group tokens
	s.scopes == ["read_api", "read_registry", "self_rotate"]
	s.access_level == 20
	contains(s.question, "read access only")
}

test_gitlab_personal_token_has_no_role_and_steps_name_the_api if {
	tok := object.union(_group, {"kind": "personal_access_token", "access_level": null, "stored_in": [
		{"kind": "gitlab_ci_variable", "location": "acme/app", "key": "TOKEN", "public": false},
	]})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.access_level == null
	steps := replacement.steps(tok, s) with input as testing.input_with([])
	contains(steps[0], "personal access token in User settings")
	contains(steps[1], "self/rotate")
	contains(steps[2], "gitlab_ci_variable acme/app (TOKEN)")
	steps[3] == "Revoke glpat-… once nothing uses it: DELETE /personal_access_tokens/3"
}

test_gitlab_group_steps_name_role if {
	s := replacement.spec(_group) with input as testing.input_with([])
	steps := replacement.steps(_group, s) with input as testing.input_with([])
	contains(steps[0], "role reporter (20)")
	contains(steps[2], "DELETE /groups/:id/access_tokens/3")
}

test_gitlab_personal_api_token_keeps_git_over_http if {
	tok := object.union(_group, {
		"kind": "personal_access_token", "access_level": null, "scopes": ["api"],
		"observed_usage": [{"resource": {"type": "project", "name": "acme/app"}, "actions": ["push"]}],
	})
	s := replacement.spec(tok) with input as testing.input_with([])
	s.scopes == ["self_rotate", "write_repository"]
}

test_gitlab_bot_tokens_rotate_through_their_own_self_endpoint if {
	steps := replacement.steps(_group, replacement.spec(_group)) with input as testing.input_with([])
	steps[1] == "Rotate it before expiry with its self_rotate scope: POST /groups/:id/access_tokens/self/rotate"
	project := object.union(_group, {"kind": "project_access_token"})
	project_steps := replacement.steps(project, replacement.spec(project)) with input as testing.input_with([])
	project_steps[1] == "Rotate it before expiry with its self_rotate scope: POST /projects/:id/access_tokens/self/rotate"
}
