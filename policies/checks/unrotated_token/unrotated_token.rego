# METADATA
# title: Token not rotated
# description: |
#   A long-lived token accumulates copies: laptops, CI logs, old Space duplicates, former
#   colleagues. Rotating it regularly bounds how long a silent leak stays useful.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025
#     description: OWASP NHI7 Long-lived secrets
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: unrotated-token
#   severity: medium
#   nhi: [NHI7]
#   recommended_action: rotate
package checks.unrotated_token

import data.lib.config
import data.lib.finding
import data.lib.tokens

# METADATA
# description: One finding per unexpired token created more than max_age_days before now.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s was created %d days ago (%s) and never rotated; the limit is %d days", [
		tok.provider, tokens.label(tok), tok.owner, days, tok.created_at, limit,
	]),
	"evidence": {"created_at": tok.created_at, "age_days": days, "max_age_days": limit},
	"recommendation": {
		"action": "rotate",
		"summary": sprintf("Rotate %s (%d days old)", [tokens.label(tok), days]),
		"steps": array.concat(
			["Create a new token with the same or narrower permissions, with an expiry where the provider allows one"],
			array.concat(
				[sprintf("Update %s with the new value", [concat(", ", {p.location | some p in tok.stored_in})]) | count(tok.stored_in) > 0],
				[sprintf("Revoke %s", [tokens.label(tok)])],
			),
		),
	},
}) if {
	some tok in tokens.live
	is_string(tok.created_at)
	limit := config.thresholds.max_age_days
	config.older_than(tok.created_at, limit)
	days := config.days_since(tok.created_at)
}
