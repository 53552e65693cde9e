# METADATA
# title: Write access to every repository of an organization or group
# description: |
#   A fine-grained GitHub token granted to all repositories of an organization, or a GitLab
#   group access token, that can write: one leak lets the holder push to every repository or
#   project, including ones created after the token. Limit it to the repositories it changes.
# related_resources:
#   - ref: https://docs.github.com/en/rest/orgs/personal-access-tokens
#     description: Fine-grained token grants and their repository_selection
#   - ref: https://docs.gitlab.com/user/group/settings/group_access_tokens/
#     description: GitLab group access tokens
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: org-wide-token
#   severity: high
#   nhi: [NHI5]
#   recommended_action: replace
#   providers: [github, gitlab]
package checks.org_wide_token

import data.lib.finding
import data.lib.replacement
import data.lib.tokens

# METADATA
# description: |
#   One finding per write-capable token that reaches a whole organization or group. Legacy
#   tokens (legacy-token) and third-party apps (third-party-broad-access) are judged elsewhere.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s %s %s of %s can %s every repository of %s", [
		tok.provider, replace(tok.kind, "_", " "), tokens.label(tok), tok.owner,
		tokens.max_access(tok), concat(", ", _reach(tok)),
	]),
	"evidence": {
		"org_wide": true, "access": tokens.max_access(tok), "reach": _reach(tok),
		"repository_selection": object.get(tok, "repository_selection", null),
	},
	"recommendation": replacement.recommend_replacement(
		tok,
		"Replace it with a token limited to the repositories it really writes to",
	),
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	tok.org_wide
	not tok.legacy
	not tok.kind in object.get(tokens.catalogue(tok), "third_party_kinds", [])
	_writes_widely(tok)
}

# The write must be on the whole-org resource (catalogue wide_resource_types), unless the provider's
# catalogue says any write of an org-wide token counts (org_wide_any_write).
_writes_widely(tok) if {
	types := tokens.catalogue(tok).wide_resource_types
	some g in tok.grants
	g.resource.type in types
	some p in g.permissions

	# a role (GitLab access_level) is capped by the scopes: only a scope can make the token write
	not p in object.get(tokens.catalogue(tok), "role_permissions", [])
	tokens.access_of(tok.provider, p) in {"write", "admin"}
}

_writes_widely(tok) if {
	not tokens.catalogue(tok).wide_resource_types
	tokens.can_write(tok)
}

# A catalogue may count any write of an org-wide token (org_wide_any_write), org-level ones too.
_writes_widely(tok) if {
	tokens.catalogue(tok).org_wide_any_write
	tokens.can_write(tok)
}

_reach(tok) := [sprintf("%s %s", [g.resource.type, g.resource.name]) | some g in tok.grants] if {
	count(tok.grants) > 0
} else := tok.orgs
