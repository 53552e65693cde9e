# METADATA
# title: Stale token
# description: |
#   A token nobody has used for months is a standing risk with no benefit: it still works for
#   whoever finds it. Revoke it; whoever still needs it will ask.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025
#     description: OWASP NHI1 Improper offboarding
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: stale-token
#   severity: medium
#   nhi: [NHI1]
#   requires: [token_usage]
#   recommended_action: revoke
package checks.stale_token

import data.lib.config
import data.lib.finding
import data.lib.tokens

# METADATA
# description: One finding per unexpired token last used more than stale_days before now.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s was last used %d days ago (%s), more than %d days", [
		tok.provider, tokens.label(tok), tok.owner, days, tok.last_used_at, limit,
	]),
	"evidence": {"last_used_at": tok.last_used_at, "days_since_use": days, "stale_days": limit},
	"recommendation": {
		"action": "revoke",
		"summary": sprintf("Revoke %s: unused for %d days", [tokens.label(tok), days]),
		"steps": array.concat(
			[sprintf("Confirm with %s that nothing still needs the token", [tok.owner])],
			array.concat(
				[sprintf("Remove it from %s", [concat(", ", {p.location | some p in tok.stored_in})]) | count(tok.stored_in) > 0],
				[sprintf("Revoke %s", [tokens.label(tok)])],
			),
		),
	},
}) if {
	some tok in tokens.live
	is_string(tok.last_used_at)
	limit := config.thresholds.stale_days
	config.older_than(tok.last_used_at, limit)
	days := config.days_since(tok.last_used_at)
}
