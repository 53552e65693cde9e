# METADATA
# title: Token of someone who is not a member
# description: |
#   The token's owner is not in the organization's member list, yet the token is scoped to or
#   approved for that organization: a former member's (or an outsider's) credential still
#   touching the organization's repositories. Offboarding missed it.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/1-improper-offboarding/
#     description: OWASP NHI1 Improper offboarding
#   - ref: https://huggingface.co/docs/hub/enterprise-hub-tokens-management
#     description: Organization token management (revoke a member's access)
# custom:
#   id: owner-not-member
#   severity: high
#   nhi: [NHI1]
#   recommended_action: revoke
package checks.owner_not_member

import data.lib.finding
import data.lib.tokens

# METADATA
# description: |
#   One finding per token and organization whose exported member list lacks the token's owner.
#   Organizations without a member list (members null) are not judged.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"instance": org.name,
	"message": sprintf("%s token %s belongs to %s, who is not a member of %s, yet the token %s", [
		tok.provider, tokens.label(tok), tok.owner, org.name, _how(tok, org.name),
	]),
	"evidence": {
		"org": org.name, "owner": tok.owner,
		"approval": _approval(tok, org.name), "members": count(org.members),
	},
	"recommendation": {
		"action": "revoke",
		"summary": sprintf("Revoke %s's access to %s", [tok.owner, org.name]),
		"steps": [
			sprintf("In %s's token management, revoke the token's access (approval) to %s", [org.name, org.name]),
			sprintf("If %s still needs it, re-create it under an account that is a member of %s", [tokens.label(tok), org.name]),
		],
	},
}) if {
	some tok in input.tokens
	not tokens.expired(tok) # expired tokens get only expired-token
	some org in input.orgs
	org.provider == tok.provider
	is_array(org.members)
	tok.owner != org.name
	_reaches(tok, org.name)
	not tok.owner in org.members
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
