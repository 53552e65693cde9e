# METADATA
# title: Expiry too far in the future
# description: |
#   A token that expires more than max_lifetime_days after it was created or granted is a
#   long-lived secret in all but name: a leak stays useful for most of a year. Keep lifetimes
#   short and rotate (GitLab tokens can rotate themselves with self_rotate).
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/7-long-lived-secrets/
#     description: OWASP NHI7 Long-lived secrets
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: long-lived
#   severity: medium
#   nhi: [NHI7]
#   recommended_action: rotate
#   providers: [github, gitlab, any]
package checks.long_lived

import data.lib.config
import data.lib.finding
import data.lib.replacement
import data.lib.tokens

# METADATA
# description: One finding per unexpired token whose lifetime (creation/grant to expiry) exceeds max_lifetime_days.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s %s %s of %s lives %d days (%s to %s), more than %d", [
		tok.provider, replace(tok.kind, "_", " "), tokens.label(tok), tok.owner,
		days, tok.created_at, tok.expires_at, limit,
	]),
	"evidence": {"created_at": tok.created_at, "expires_at": tok.expires_at, "lifetime_days": days, "max_lifetime_days": limit},
	"recommendation": object.union(
		replacement.recommend_replacement(tok, sprintf("Replace it with a token that expires within %d days", [limit])),
		{"action": "rotate"},
	),
}) if {
	some tok in tokens.live
	is_string(tok.expires_at)
	is_string(tok.created_at)
	limit := config.thresholds.max_lifetime_days
	config.longer_than(tok.created_at, tok.expires_at, limit)
	days := config.days_between(tok.created_at, tok.expires_at)
}
