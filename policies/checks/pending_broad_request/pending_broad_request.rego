# METADATA
# title: Pending token request that would be flagged
# description: |
#   A fine-grained personal access token request waiting for an organization owner's approval
#   asks for access that the audit would flag once granted (admin permissions, all repositories
#   with write, no or a too distant expiry…). Deny it and ask for a narrower one before it exists.
# related_resources:
#   - ref: https://docs.github.com/en/rest/orgs/personal-access-tokens
#     description: Requests to access organization resources with fine-grained tokens
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: pending-broad-request
#   severity: medium
#   nhi: [NHI5]
#   recommended_action: deny
#   requires: [personal_access_token_requests]
#   providers: [github]
package checks.pending_broad_request

import data.checks.admin_permission
import data.checks.broad_scope
import data.checks.long_lived
import data.checks.no_expiry
import data.checks.org_wide_token
import data.checks.owner_not_member
import data.lib.finding
import data.lib.replacement
import data.lib.tokens

# METADATA
# description: |
#   One finding per pending request (org settings.pending_requests) that the token checks would
#   flag if it were granted as asked: each check is evaluated with the request as the only token.
findings contains finding.new(rego.metadata.chain(), tokens.subject(request), {
	"message": sprintf("pending %s token request %s by %s for %s would be flagged once approved: %s", [
		request.provider, tokens.label(request), request.owner, org.name, concat(", ", rules),
	]),
	"evidence": {
		"would_trigger": rules, "reason": object.get(request, "reason", null),
		"repository_selection": object.get(request, "repository_selection", null),
		"requested_at": request.created_at, "expires_at": request.expires_at,
	},
	"recommendation": {
		"action": "deny",
		"summary": sprintf("Deny the request; ask %s to request only what the job needs", [request.owner]),
		"replacement": spec,
		"steps": array.concat(
			[_deny_step(org.name, request.id)],
			[sprintf("Ask %s to request instead: %s", [request.owner, _describe(spec)])],
		),
	},
}) if {
	some org in input.orgs
	some request in object.get(org, ["settings", "pending_requests"], [])
	rules := object.get(_triggered, request.key, []) # the whole object, built once; a lookup by key would redo every request
	count(rules) > 0
	spec := replacement.spec(request)
}

# Each check evaluated with the request as the only token: what it would say once granted.
_triggered[request.key] := sort({f.rule_id | some f in ((((admin | broad) | wide) | (never | long)) | foreign)}) if {
	some org in input.orgs
	some request in object.get(org, ["settings", "pending_requests"], [])
	alone := [request]

	# regal ignore:with-outside-test-context
	admin := admin_permission.findings with input.tokens as alone

	# regal ignore:with-outside-test-context
	broad := broad_scope.findings with input.tokens as alone

	# regal ignore:with-outside-test-context
	wide := org_wide_token.findings with input.tokens as alone

	# regal ignore:with-outside-test-context
	never := no_expiry.findings with input.tokens as alone

	# regal ignore:with-outside-test-context
	long := long_lived.findings with input.tokens as alone

	# regal ignore:with-outside-test-context
	foreign := owner_not_member.findings with input.tokens as alone
}

_describe(spec) := spec.question if spec.needs_owner_input

_describe(spec) := sprintf("repositories %s with %v, expiring by %s", [
	concat(", ", spec.repositories), spec.permissions, spec.expires_at,
]) if {
	not spec.needs_owner_input
}

# The org's request endpoints answer only GitHub App installation tokens; owners use the settings page.
_deny_step(org, id) := sprintf(
	concat(" ", [
		"Deny it: POST /orgs/%s/personal-access-token-requests/%s with action deny and a reason",
		"(with a GitHub App installation token holding organization_personal_access_token_requests: write,",
		"or as an owner at https://github.com/organizations/%s/settings/personal-access-token-requests)",
	]),
	[org, id, org],
)
