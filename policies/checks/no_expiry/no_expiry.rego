# METADATA
# title: Token that never expires
# description: |
#   A token without an expiry date works until someone remembers to revoke it, including after
#   its owner left or it leaked. GitHub and GitLab let every token expire; give each one a date.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/7-long-lived-secrets/
#     description: OWASP NHI7 Long-lived secrets
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: no-expiry
#   severity: high
#   nhi: [NHI7]
#   recommended_action: replace
#   providers: [github, gitlab, any]
package checks.no_expiry

import data.lib.config
import data.lib.finding
import data.lib.replacement
import data.lib.tokens

# METADATA
# description: |
#   One finding per token of a kind that can expire but has no expiry; high when it can write,
#   medium when read-only. Kinds the provider cannot expire (expiry_supported false) are not judged.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"severity": _severity(tok),
	"message": sprintf("%s %s %s of %s (%s access) never expires", [
		tok.provider, replace(tok.kind, "_", " "), tokens.label(tok), tok.owner, tokens.max_access(tok),
	]),
	"evidence": {"expires_at": null, "created_at": tok.created_at, "access": tokens.max_access(tok)},
	"recommendation": replacement.recommend_replacement(tok, sprintf(
		"Replace it with a token that expires within %d days",
		[config.thresholds.max_lifetime_days],
	)),
}) if {
	some tok in input.tokens
	tok.expiry_supported

	# the provider gives no expiry to any of its tokens (PyPI)
	object.get(tokens.catalogue(tok), "expiry_supported", true)
	tok.expires_at == null
}

_severity(tok) := "high" if tokens.can_write(tok)

_severity(tok) := "medium" if not tokens.can_write(tok)
