# METADATA
# title: One token used in several places
# description: |
#   A token copied to several places cannot be revoked without breaking all of them, so it
#   never is; a leak from any one place exposes all the others' access. Give each place its own
#   token, scoped to what that place does.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025
#     description: OWASP NHI9 NHI reuse
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: token-reuse
#   severity: medium
#   nhi: [NHI9]
#   recommended_action: replace
package checks.token_reuse

import data.lib.finding
import data.lib.tokens

# METADATA
# description: One finding per token stored in two or more distinct places (kind and location).
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s is stored in %d places: %s", [
		tok.provider, tokens.label(tok), tok.owner, count(places), concat(", ", [sprintf("%s %s", p) | some p in places]),
	]),
	"evidence": {"places": [{"kind": kind, "location": location} | some [kind, location] in places]},
	"recommendation": {
		"action": "replace",
		"summary": sprintf("Give each of the %d places its own token, scoped to what that place does", [count(places)]),
		"steps": array.concat(
			[sprintf("Create a separate narrowly scoped token for %s %s and store it there", p) | some p in places],
			[sprintf("Revoke %s once every place has its own token", [tokens.label(tok)])],
		),
	},
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	places := {[p.kind, p.location] | some p in tok.stored_in}
	count(places) >= 2
}
