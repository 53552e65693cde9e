# METADATA
# title: Organization API token (a kind the provider deprecated)
# description: |
#   Organization API tokens (api_org_…) are not tied to a person, never expire and reach every
#   repository of the organization. Hugging Face deprecated them in favour of fine-grained user
#   and service-account tokens; any still in use is an unowned master key for the organization.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/security-tokens
#     description: Hugging Face user access tokens and fine-grained tokens
#   - ref: https://huggingface.co/docs/hub/enterprise-hub-tokens-management
#     description: Organization token management
# schemas:
#   - input: schema["policy-input"]
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
# description: One finding per token whose kind or prefix the provider's catalogue lists as deprecated.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s (%s) is an organization API token of %s, a kind %s deprecated; it reaches the whole org", [
		tok.provider, tokens.label(tok), _what(tok), tok.owner, tok.provider,
	]),
	"evidence": {"kind": tok.kind, "prefix": tok.prefix, "org_wide": tok.org_wide, "introspected": _introspected(tok)},
	"recommendation": replacement.recommend_replacement(
		tok,
		sprintf("Replace it with a fine-grained service-account or member token of %s, then revoke it", [tok.owner]),
	),
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	_deprecated(tok)
}

_deprecated(tok) if tok.kind in object.get(tokens.catalogue(tok), "deprecated_kinds", [])

_deprecated(tok) if {
	some prefix in object.get(tokens.catalogue(tok), "deprecated_prefixes", [])
	startswith(tok.prefix, prefix)
}

_what(tok) := sprintf("kind %s", [tok.kind]) if {
	tok.kind in object.get(tokens.catalogue(tok), "deprecated_kinds", [])
} else := sprintf("prefix %s", [tok.prefix])

_introspected(tok) := object.get(tok, "introspected", true)
