# METADATA
# title: Third-party app with write access to every repository
# description: |
#   An OAuth app token, or a GitHub App installed on all repositories, that can write hands a
#   vendor (and anyone who compromises it) push access to the whole organization, including
#   repositories created later. Install apps on selected repositories with the least permissions.
# related_resources:
#   - ref: https://docs.github.com/en/rest/orgs/orgs#list-app-installations-for-an-organization
#     description: GitHub App installations of an organization
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/3-vulnerable-third-party-nhi/
#     description: OWASP NHI3 Vulnerable third-party NHI
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: third-party-broad-access
#   severity: high
#   nhi: [NHI3, NHI5]
#   recommended_action: narrow
#   requires: [installations]
#   providers: [github]
package checks.third_party_broad_access

import data.lib.finding
import data.lib.tokens

# METADATA
# description: |
#   One finding per third-party token (catalogue third_party_kinds) or App installation
#   (org settings.installations) that reaches every repository and can write or administer.
findings contains finding.new(rego.metadata.chain(), tokens.subject(app), {
	"message": sprintf("%s %s %s (%s) has %s access to every repository of %s: %s", [
		app.provider, replace(app.kind, "_", " "), tokens.label(app), app.owner,
		tokens.max_access(app), concat(", ", app.orgs), concat(", ", _strong(app)),
	]),
	"evidence": {
		"kind": app.kind, "access": tokens.max_access(app), "write_permissions": _strong(app),
		"repository_selection": object.get(app, "repository_selection", null),
	},
	"recommendation": _recommendation(app),
}) if {
	some app in _apps
	app.org_wide
	tokens.can_write(app)
}

_apps := array.concat(
	[tok |
		some tok in tokens.live # expired tokens get only expired-token
		tok.kind in object.get(tokens.catalogue(tok), "third_party_kinds", [])
	],
	[installation |
		some org in input.orgs
		some installation in object.get(org, ["settings", "installations"], [])
	],
)

_strong(app) := sort([p |
	some [p, level] in tokens.permission_levels(app)
	level in {"write", "admin"}
])

_recommendation(app) := {
	"action": "narrow",
	"summary": sprintf("Limit the %s app to the repositories and permissions it needs", [app.name]),
	"steps": [
		sprintf("Review why %s needs %s", [app.name, concat(", ", _strong(app))]),
		sprintf(
			"In %s's Settings → GitHub Apps → %s → Configure, choose Only select repositories and remove permissions it does not use",
			[app.owner, app.name],
		),
		"If the vendor cannot work with less, weigh replacing the app",
	],
} if {
	app.kind == "github_app_installation"
} else := {
	"action": "narrow",
	"summary": sprintf(
		"Revoke the OAuth authorization of %s and re-authorize with fewer scopes, or replace it by a GitHub App",
		[tokens.label(app)],
	),
	"steps": [
		sprintf("Ask %s what the app behind %s does with %s", [app.owner, tokens.label(app), concat(", ", _strong(app))]),
		sprintf(
			"Revoke it (DELETE /orgs/%s/credential-authorizations/%s, and in %s's Settings → Applications)",
			[concat(", ", app.orgs), app.id, app.owner],
		),
		"Prefer a GitHub App installed on selected repositories; enable OAuth app access restrictions for the organization",
	],
}
