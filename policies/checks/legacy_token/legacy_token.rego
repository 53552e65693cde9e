# METADATA
# title: Legacy token with account-wide reach
# description: |
#   A classic (unscoped) token reaches every repository its owner can reach. A stolen read
#   token leaks every private repository; a write token lets the thief push to all of them.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/security-tokens
#     description: Hugging Face user access tokens and fine-grained tokens
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: legacy-token
#   severity: high
#   nhi: [NHI4, NHI5]
#   recommended_action: replace
#   requires: [credential_authorizations]
package checks.legacy_token

import data.lib.config
import data.lib.finding
import data.lib.replacement
import data.lib.tokens

# METADATA
# description: One finding per legacy token; high when it can write, medium when read-only.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"severity": _severity(tok),
	"message": sprintf("%s token %s is a legacy token with %s access to everything %s can reach%s", [
		tok.provider, tokens.label(tok), tokens.max_access(tok), tok.owner, _revoked_note(tok),
	]),
	"evidence": object.union(
		{"legacy": true, "access": tokens.max_access(tok), "reach": [g.resource | some g in tok.grants]},
		_stale_inventory(tok),
	),
	"recommendation": replacement.recommend_replacement(tok, "Replace it with a fine-grained token limited to what it is used for"),
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	tok.legacy
}

_severity(tok) := "high" if tokens.can_write(tok)

_severity(tok) := "medium" if not tokens.can_write(tok)

# A provider that revoked all its legacy tokens (npm, 2025-12-09): one listed after that date is a stale inventory.
_revoked(tok) if {
	revoked_on := tokens.catalogue(tok).legacy_revoked_on
	config.now_ns >= time.parse_rfc3339_ns(revoked_on)
}

_revoked_note(tok) := sprintf("; %s", [tokens.catalogue(tok).legacy_revoked_note]) if _revoked(tok)

_revoked_note(tok) := "" if not _revoked(tok)

_stale_inventory(tok) := {"stale_inventory": true, "revoked_on": tokens.catalogue(tok).legacy_revoked_on} if _revoked(tok)

_stale_inventory(tok) := {} if not _revoked(tok)
