# METADATA
# title: Expired token still listed
# description: |
#   An expired token no longer works, so it is reported once, for clean-up only, and not by the
#   usage rules: delete it from the token list and from every place still holding it.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/security-tokens
#     description: Managing access tokens
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: expired-token
#   severity: low
#   nhi: [NHI7]
#   recommended_action: revoke
package checks.expired_token

import data.lib.config
import data.lib.finding
import data.lib.tokens

# METADATA
# description: One finding per token whose expiry is before now.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s expired %d days ago (%s) but is still listed%s", [
		tok.provider, tokens.label(tok), tok.owner, days, tok.expires_at, _still_stored(tok),
	]),
	"evidence": {"expires_at": tok.expires_at, "days_since_expiry": days},
	"recommendation": {
		"action": "revoke",
		"summary": sprintf("Clean up %s: delete it and remove it from where it is stored", [tokens.label(tok)]),
		"steps": array.concat(
			[sprintf("Remove the dead value from %s; anything still using it is already failing", [_places(tok)]) |
				count(tok.stored_in) > 0
			],
			[sprintf("Delete %s from the token list", [tokens.label(tok)])],
		),
	},
}) if {
	some tok in input.tokens
	tokens.expired(tok)
	days := config.days_since(tok.expires_at)
}

_places(tok) := concat(", ", {p.location | some p in tok.stored_in})

_still_stored(tok) := sprintf(" and stored in %s", [_places(tok)]) if {
	count(tok.stored_in) > 0
} else := ""
