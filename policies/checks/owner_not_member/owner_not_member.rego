# METADATA
# title: Token of someone who is not a member
# description: |
#   The token's owner is not in the organization's member list, yet the token is scoped to or
#   approved for that organization: a former member's (or an outsider's) credential still
#   touching the organization's repositories. Offboarding missed it.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025
#     description: OWASP NHI1 Improper offboarding
#   - ref: https://huggingface.co/docs/hub/enterprise-hub-tokens-management
#     description: Organization token management (revoke a member's access)
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: owner-not-member
#   severity: high
#   nhi: [NHI1]
#   recommended_action: revoke
#   requires: [members]
package checks.owner_not_member

import data.lib.finding
import data.lib.tokens

# METADATA
# description: |
#   One finding per token and organization whose exported member list lacks the token's owner.
#   Organizations without a member list (members null) are not judged.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"instance": org,
	"message": sprintf("%s token %s belongs to %s, who is not a member of %s, yet the token %s", [
		tok.provider, tokens.label(tok), tok.owner, org, _how(tok, org),
	]),
	"evidence": {
		"org": org, "owner": tok.owner,
		"approval": _approval(tok, org), "members": count(members),
	},
	"recommendation": {
		"action": "revoke",
		"summary": sprintf("Revoke %s's access to %s", [tok.owner, org]),
		"steps": [
			sprintf("In %s's token management, revoke the token's access (approval) to %s", [org, org]),
			sprintf("If %s still needs it, re-create it under an account that is a member of %s", [tokens.label(tok), org]),
		],
	},
}) if {
	some tok in tokens.live # expired tokens get only expired-token

	# service accounts belong to the organization without being members of it
	not tok.kind in object.get(tokens.catalogue(tok), "service_account_kinds", [])
	some org in _candidates(tok)
	tok.owner != org
	members := object.get(_member_sets, concat(":", [tok.provider, org]), null) # the whole object, built once
	is_set(members)
	not members[tok.owner]
	_reaches(tok, org)
}

# Exported member lists as sets, by "provider:org" (built once per evaluation, not per token).
_member_sets[key] := {m |
	some other in input.orgs
	concat(":", [other.provider, other.name]) == key
	is_array(other.members)
	some m in other.members
} if {
	some org in input.orgs
	is_array(org.members)
	key := concat(":", [org.provider, org.name])
}

# Organizations the token may reach: its orgs, approvals and the namespaces of its grants.
_candidates(tok) := ({o | some o in tok.orgs} | {o | some o, _ in object.get(tok, "approval", {})}) | {namespace |
	some g in tok.grants
	namespace := split(g.resource.name, "/")[0]
}

# Scoped to the org (a grant on it or on one of its repositories), or approved for it.
# Without approval data (other providers), the adapter's orgs list says it.
_reaches(tok, org) if {
	org in tok.orgs
	_approval(tok, org) == null
}

_reaches(tok, org) if _approval(tok, org) == "APPROVED"

_reaches(tok, org) if _scoped(tok, org)

_scoped(tok, org) if {
	some g in tok.grants
	g.resource.name == org
}

_scoped(tok, org) if {
	some g in tok.grants
	startswith(g.resource.name, concat("", [org, "/"]))
}

_approval(tok, org) := object.get(object.get(tok, "approval", {}), org, null)

_how(tok, org) := sprintf("is approved for it (%s)", [_approval(tok, org)]) if {
	_approval(tok, org) == "APPROVED"
} else := sprintf("is scoped to it (approval %s)", [_approval(tok, org)]) if {
	is_string(_approval(tok, org))
} else := "is scoped to it"
