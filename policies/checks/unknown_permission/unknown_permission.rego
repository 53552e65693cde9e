# METADATA
# title: Permission, scope or credential type the catalogue does not know
# description: |
#   The provider added a permission, scope or kind of credential after this catalogue version.
#   The token is still audited (unknown names are rated by their spelling: containing admin as
#   admin, ending in :write, .delete, _manage… as write, anything else as read, which may be too
#   low), so someone should check what it grants and add it to the catalogue (or --config catalogue:).
# related_resources:
#   - ref: https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens
#     description: GitHub fine-grained permissions
#   - ref: https://docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes
#     description: GitLab token scopes
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: unknown-permission
#   severity: low
#   nhi: [NHI5]
#   recommended_action: review
#   providers: [github, gitlab]
package checks.unknown_permission

import data.lib.config
import data.lib.finding
import data.lib.tokens

# METADATA
# description: One finding per token holding permissions or scopes missing from a catalogue that asks for them to be reported.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"instance": "permissions",
	"message": sprintf("%s token %s of %s holds %s, not in catalogue %s; rated %s", [
		tok.provider, tokens.label(tok), tok.owner, concat(", ", unknown), config.catalogue.version,
		concat(", ", [sprintf("%s as %s", [p, tokens.access_of(tok.provider, p)]) | some p in unknown]),
	]),
	"evidence": {"unknown": unknown, "catalogue_version": config.catalogue.version},
	"recommendation": _review(sprintf("Find out what %s grant%s and add %s to the catalogue", [
		concat(", ", unknown), _s(unknown), _them(unknown),
	])),
}) if {
	some tok in _subjects
	unknown := _unknown(tok)
	count(unknown) > 0
}

# METADATA
# description: One finding per token whose kind (credential type) the provider's catalogue does not list.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"instance": "kind",
	"message": sprintf("%s credential %s of %s has a type the catalogue does not know (%s); audited as a plain token", [
		tok.provider, tokens.label(tok), tok.owner, _type(tok),
	]),
	"evidence": {"kind": tok.kind, "credential_type": _type(tok)},
	"recommendation": _review(sprintf("Find out what a %s credential is and add its kind to the catalogue", [_type(tok)])),
}) if {
	some tok in _subjects
	not tokens.catalogue(tok).kinds[tok.kind]
}

# Unexpired tokens and App installations of providers whose catalogue asks for unknown names to be reported.
_subjects := [subject |
	some subject in array.concat(tokens.live, _installations)
	tokens.catalogue(subject).report_unknown
]

_installations := [installation |
	some org in input.orgs
	some installation in object.get(org, ["settings", "installations"], [])
]

_unknown(tok) := sort({p |
	some [p, _] in tokens.permission_levels(tok)
	not tokens.catalogue(tok).permissions[p]
	not tokens.catalogue(tok).scopes[p]
})

_type(tok) := object.get(tok, "credential_type", tok.kind)

_review(summary) := {"action": "review", "summary": summary, "steps": [
	"Read the provider's documentation for it",
	"Add it to policies/token_auditor/catalogue/providers/<provider>/data.json, or to catalogue: in the --config file",
]}

_s(list) := "" if count(list) > 1

_s(list) := "s" if count(list) == 1

_them(list) := "them" if count(list) > 1

_them(list) := "it" if count(list) == 1
