# METADATA
# title: Organization API token (a kind the provider removed)
# description: |
#   Organization API tokens (api_org_…) are not tied to a person, never expire and reach every
#   repository of the organization. Hugging Face removed them; any still in use is an unowned,
#   unaccountable master key for the organization.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/security-tokens
#     description: Hugging Face user access tokens and fine-grained tokens
#   - ref: https://huggingface.co/docs/hub/enterprise-hub-tokens-management
#     description: Organization token management
# custom:
#   id: org-token
#   severity: critical
#   nhi: [NHI5, NHI9]
#   recommended_action: replace
package checks.org_token

import data.lib.finding
import data.lib.replacement
import data.lib.tokens

# METADATA
# description: One finding per token whose kind or prefix the provider's catalogue lists as removed.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s (%s) is an organization API token of %s, a kind %s removed; it reaches the whole organization", [
		tok.provider, tokens.label(tok), _what(tok), tok.owner, tok.provider,
	]),
	"evidence": {"kind": tok.kind, "prefix": tok.prefix, "org_wide": tok.org_wide, "introspected": _introspected(tok)},
	"recommendation": replacement.recommend_replacement(
		tok,
		sprintf("Replace the organization token with a fine-grained token owned by a member of %s, then revoke it", [tok.owner]),
	),
}) if {
	some tok in input.tokens
	not tokens.expired(tok) # expired tokens get only expired-token
	_removed(tok)
}

_removed(tok) if tok.kind in object.get(tokens.catalogue(tok), "removed_kinds", [])

_removed(tok) if {
	some prefix in object.get(tokens.catalogue(tok), "removed_prefixes", [])
	startswith(tok.prefix, prefix)
}

_what(tok) := sprintf("kind %s", [tok.kind]) if {
	tok.kind in object.get(tokens.catalogue(tok), "removed_kinds", [])
} else := sprintf("prefix %s", [tok.prefix])

_introspected(tok) := object.get(tok, "introspected", true)
