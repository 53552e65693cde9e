package checks.pending_broad_request_test

import data.checks.pending_broad_request
import data.lib.testing

_request := testing.token({
	"key": "github:fine_grained_pat_request:41", "id": "41", "provider": "github", "kind": "fine_grained_pat_request",
	"name": "org-admin-tool", "owner": "bob", "org_wide": true, "repository_selection": "all", "orgs": ["acme"],
	"expiry_supported": true, "expires_at": null, "created_at": "2026-11-20T00:00:00Z", "last_used_at": null,
	"reason": "automation",
	"grants": [
		{"resource": {"type": "org_repositories", "name": "acme"}, "permissions": ["contents:write", "metadata:read"]},
		{"resource": {"type": "org", "name": "acme"}, "permissions": ["organization_administration:write"]},
	],
})

_narrow := object.union(_request, {
	"key": "github:fine_grained_pat_request:42", "id": "42", "org_wide": false, "repository_selection": "subset",
	"expires_at": "2026-12-20T00:00:00Z", "owner": "alice",
	"grants": [{"resource": {"type": "selected_repositories", "name": "acme"}, "permissions": ["contents:read", "metadata:read"]}],
})

_input(requests, members) := object.union(testing.input_with([]), {"orgs": [{
	"provider": "github", "name": "acme", "members": members, "token_policy": null,
	"settings": {"pending_requests": requests},
}]})

test_broad_request_names_every_check_it_would_trigger if {
	some f in pending_broad_request.findings with input as _input([_request], null)
	f.rule_id == "pending-broad-request"
	testing.rule_severity(f)
	f.evidence.would_trigger == ["admin-permission", "no-expiry", "org-wide-token"]
	f.recommendation.action == "deny"
	f.recommendation.replacement.needs_owner_input
	contains(f.recommendation.steps[0], "personal-access-token-requests/41")
}

test_request_by_non_member_is_flagged if {
	some f in pending_broad_request.findings with input as _input([_narrow], ["bob"])
	f.evidence.would_trigger == ["owner-not-member"]
}

test_narrow_request_does_not_fire if {
	count(pending_broad_request.findings) == 0 with input as _input([_narrow], ["alice"])
}

test_request_with_usage_gets_a_concrete_spec if {
	usage := [{"resource": {"type": "repository", "name": "acme/api"}, "actions": ["push"]}]
	req := object.union(_request, {"observed_usage": usage})
	some f in pending_broad_request.findings with input as _input([req], null)
	not f.recommendation.replacement.needs_owner_input
	f.recommendation.replacement.repositories == ["acme/api"]
	contains(f.recommendation.steps[1], "acme/api")
}
