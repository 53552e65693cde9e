# METADATA
# title: Broad classic scope
# description: |
#   A classic scope such as GitHub's repo or workflow, or GitLab's api, reaches every repository
#   or project its owner can reach, with write access. The catalogue lists each broad scope and
#   the narrow permissions or scopes that replace it, and the scopes already as narrow as a kind
#   of token allows (a GitLab project token's write_repository reaches its one project only).
# related_resources:
#   - ref: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps
#     description: GitHub classic scopes
#   - ref: https://docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes
#     description: GitLab token scopes
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: broad-scope
#   severity: high
#   nhi: [NHI5]
#   recommended_action: replace
#   providers: [github, gitlab]
package checks.broad_scope

import data.lib.finding
import data.lib.replacement
import data.lib.text
import data.lib.tokens

# METADATA
# description: One finding per token (not a third-party app's) holding scopes the catalogue lists as broad.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s %s %s of %s holds broad scope%s %s", [
		tok.provider, replace(tok.kind, "_", " "), tokens.label(tok), tok.owner, text.plural(broad), concat(", ", broad),
	]),
	"evidence": {"broad_scopes": broad, "scopes": tok.scopes, "narrower": {s: _narrower(tok, s) | some s in broad}},
	"recommendation": replacement.recommend_replacement(tok, sprintf(
		"Replace %s with a token holding only the narrow permissions its job needs",
		[concat(", ", broad)],
	)),
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	not tok.kind in object.get(tokens.catalogue(tok), "third_party_kinds", [])
	broad := sort([s |
		some s in tok.scopes
		s in object.get(tokens.catalogue(tok), "broad_scopes", [])
		not s in object.get(tokens.catalogue(tok), ["narrow_for_kind", tok.kind], [])
	])
	count(broad) > 0
}

_narrower(tok, scope) := alternatives if {
	alternatives := tokens.catalogue(tok).narrow_alternatives[scope]
} else := sort([sprintf("%s:%s", [name, level]) |
	some name, level in tokens.catalogue(tok).classic_to_fine_grained[scope]
]) if {
	tokens.catalogue(tok).classic_to_fine_grained[scope]
} else := []
