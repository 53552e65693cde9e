# METADATA
# title: Token never used
# description: |
#   A token created weeks ago and never used was not needed, or was handed to something that
#   never started. It still works for whoever finds it.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025
#     description: OWASP NHI1 Improper offboarding
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: never-used-token
#   severity: medium
#   nhi: [NHI1]
#   requires: [token_usage]
#   recommended_action: revoke
package checks.never_used_token

import data.lib.config
import data.lib.finding
import data.lib.tokens

# METADATA
# description: One finding per unexpired, never-used token created more than unused_grace_days before now.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s has never been used since it was created %d days ago (grace %d days)", [
		tok.provider, tokens.label(tok), tok.owner, days, limit,
	]),
	"evidence": {"created_at": tok.created_at, "last_used_at": null, "days_since_creation": days, "unused_grace_days": limit},
	"recommendation": {
		"action": "revoke",
		"summary": sprintf("Revoke %s: never used in %d days", [tokens.label(tok), days]),
		"steps": array.concat(
			[sprintf("Ask %s whether the token was meant for something that never started", [tok.owner])],
			array.concat(
				[sprintf("Remove it from %s", [concat(", ", {p.location | some p in tok.stored_in})]) | count(tok.stored_in) > 0],
				[sprintf("Revoke %s", [tokens.label(tok)])],
			),
		),
	},
}) if {
	some tok in tokens.live
	tok.last_used_at == null
	is_string(tok.created_at)
	limit := config.thresholds.unused_grace_days
	config.older_than(tok.created_at, limit)
	days := config.days_since(tok.created_at)
}
