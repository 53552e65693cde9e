package lib.finding_test

import data.checks.legacy_token
import data.checks.never_used_token
import data.checks.org_allows_legacy_tokens
import data.checks.owner_not_member
import data.checks.pending_broad_request
import data.checks.stale_token
import data.checks.third_party_broad_access
import data.lib.testing

_org(name, members, evidence) := {
	"provider": "huggingface", "name": name, "token_policy": "allow_all",
	"members": members, "settings": {}, "evidence": evidence,
}

_input(toks, orgs) := object.union(testing.input_with(toks), {"orgs": orgs})

_outsider := testing.token({"owner": "intern", "orgs": ["acme", "beta"], "grants": []})

test_owner_not_member_runs_only_where_members_were_exported if {
	orgs := [
		_org("acme", ["jdoe"], {"members": "present"}),
		_org("beta", ["jdoe"], {"members": "failed"}), # a partial list must not accuse anyone
	]
	found := {f.instance | some f in owner_not_member.findings} with input as _input([_outsider], orgs)
	found == {"acme"}
}

test_org_finding_gated_by_its_own_evidence if {
	orgs := [
		_org("acme", null, {"org_policies": "present"}),
		_org("beta", null, {"org_policies": "missing"}),
	]
	found := {f.subject.name | some f in org_allows_legacy_tokens.findings} with input as _input([], orgs)
	found == {"acme"}
}

_gh(evidence) := [object.union(_org("acme", null, evidence), {"provider": "github"})]

test_token_finding_gated_by_the_orgs_of_the_token if {
	classic := testing.token({
		"key": "github:classic_pat:1", "id": "1", "provider": "github", "kind": "classic_pat", "legacy": true,
		"orgs": ["acme"], "scopes": ["repo"], "grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["repo"]}],
	})
	count(legacy_token.findings) == 1 with input as _input([classic], _gh({"credential_authorizations": "present"}))
	count(legacy_token.findings) == 0 with input as _input([classic], _gh({"credential_authorizations": "forbidden"}))

	# an org of another provider, or no evidence record at all, never gates
	count(legacy_token.findings) == 1 with input as _input([classic], [_org("acme", null, {"credential_authorizations": "missing"})])
	count(legacy_token.findings) == 1 with input as _input([classic], [])
}

_installation := {
	"key": "github:github_app_installation:9", "id": "9", "provider": "github", "kind": "github_app_installation",
	"name": "ci-bot", "owner": "acme", "org_wide": true, "orgs": ["acme"], "expiry_supported": false,
	"grants": [{"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:write"]}],
}

_apps_org(status) := [{
	"provider": "github", "name": "acme", "token_policy": null, "members": null,
	"settings": {"installations": [_installation]}, "evidence": {"installations": status},
}]

test_installation_finding_gated_by_installations_evidence if {
	count(third_party_broad_access.findings) == 1 with input as _input([], _apps_org("present"))
	count(third_party_broad_access.findings) == 0 with input as _input([], _apps_org("failed"))
}

test_pending_request_gated_by_requests_evidence if {
	request := {
		"key": "github:fine_grained_pat_request:5", "id": "5", "provider": "github", "kind": "fine_grained_pat_request",
		"name": "deploy", "owner": "jdoe", "org_wide": true, "orgs": ["acme"], "legacy": false, "scopes": [],
		"expiry_supported": true, "expires_at": null, "created_at": "2026-11-01T00:00:00Z", "approval": {"acme": "pending"},
		"grants": [{"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:write"]}],
		"global_permissions": [], "stored_in": [], "observed_usage": [], "last_used_at": null,
	}
	count(pending_broad_request.findings) == 1 with input as _input([], _requests_org(request, "present"))
	count(pending_broad_request.findings) == 0 with input as _input([], _requests_org(request, "missing"))
}

_requests_org(request, status) := [{
	"provider": "github", "name": "acme", "token_policy": null, "members": null,
	"settings": {"pending_requests": [request]}, "evidence": {"personal_access_token_requests": status},
}]

_unused(key, usage) := testing.token({
	"key": key, "id": key, "created_at": "2026-01-01T00:00:00Z", "last_used_at": null,
	"evidence": {"token_usage": usage},
})

test_token_finding_gated_by_the_tokens_own_evidence if {
	toks := [_unused("a", "present"), _unused("b", "not_applicable"), _unused("c", "failed")]
	found := {f.subject.key | some f in never_used_token.findings} with input as _input(toks, [])
	found == {"a"}

	# a token without an evidence record keeps today's meaning (null last_used_at = never used)
	bare := testing.token({"created_at": "2026-01-01T00:00:00Z", "last_used_at": null})
	count(never_used_token.findings) == 1 with input as _input([bare], [])

	old := testing.token({"last_used_at": "2026-01-01T00:00:00Z", "evidence": {"token_usage": "not_applicable"}})
	count(stale_token.findings) == 0 with input as _input([old], [])
	count(stale_token.findings) == 1 with input as _input([object.remove(old, ["evidence"])], [])
}
