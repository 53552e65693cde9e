# GitHub replacement
# The fine-grained personal access token that replaces a GitHub token: only the repositories
# observed usage shows, permissions no stronger than the token holds today (classic scopes
# mapped through the catalogue's classic_to_fine_grained), an expiry within max_lifetime_days;
# a GitHub App for org automation; an owner question when nothing shows what is needed.
package lib.replacement

import data.lib.config
import data.lib.tokens

_gh := config.catalogue.providers.github

_rank_of("read") := 1

_rank_of("write") := 2

_rank_of("admin") := 3

_top(levels) := level if {
	best := max({_rank_of(l) | some l in levels})
	some level in levels
	_rank_of(level) == best
}

_bottom(levels) := level if {
	least := min({_rank_of(l) | some l in levels})
	some level in levels
	_rank_of(level) == least
}

# [permission, level] pairs the token holds: its fine-grained grants, or what its scopes map to.
_gh_pairs(tok) := {[name, level] |
	some s in tok.scopes
	some name, level in object.get(_gh.classic_to_fine_grained, s, {})
} | {[parts[0], parts[1]] |
	some g in tok.grants
	some p in g.permissions
	not p in tok.scopes
	parts := split(p, ":")
	count(parts) == 2
}

# GitHub Packages' registries accept only classic PATs: a fine-grained packages permission is never proposed.
_gh_registry_only := data.token_auditor.registry.github.package_registries.permissions

_gh_held(tok) := {name: _top({l | some [n, l] in pairs; n == name}) |
	pairs := _gh_pairs(tok)
	some [name, _] in pairs
	not name in _gh_registry_only
}

_gh_package_scopes(tok) := [s | some s in tok.scopes; data.token_auditor.registry.github.classic_scopes[s].package_registries]

_gh_drops_packages(tok) if count(_gh_package_scopes(tok)) > 0

_gh_drops_packages(tok) if {
	some [name, _] in _gh_pairs(tok)
	name in _gh_registry_only
}

# The classic PAT a registry client keeps: read:packages, plus write:packages where usage shows a push it can do today.
_gh_packages_classic(tok) := {
	"provider": "github",
	"type": "classic_pat",
	"scopes": sort({"read:packages"} | {"write:packages" |
		"write:packages" in tok.scopes
		some u in tok.observed_usage
		"packages_write" in u.actions
	}),
	"expires_in_days": _days,
	"expires_at": _expiry_date,
	"purpose": concat("; ", [
		"GitHub Packages registries accept only personal access tokens (classic)",
		"inside GitHub Actions use GITHUB_TOKEN instead",
	]),
}

_gh_also(tok) := {"also": [_gh_packages_classic(tok)]} if count(_gh_package_scopes(tok)) > 0

_gh_also(tok) := {} if count(_gh_package_scopes(tok)) == 0

_gh_packages_note(tok) := {"packages_note": concat(" ", [
	"GitHub Packages registries accept only personal access tokens (classic), so no fine-grained packages permission is proposed:",
	"inside GitHub Actions use GITHUB_TOKEN; elsewhere a classic PAT with read:packages only",
])} if {
	_gh_drops_packages(tok)
} else := {}

_gh_needed(tok) := {[name, level] |
	some u in tok.observed_usage
	u.resource.type == "repository"
	some action in u.actions
	some name, level in object.get(_gh.usage_permissions, action, {})
}

# Usage-shown permissions, never above what the token holds today.
_gh_from_usage(tok) := {name: _bottom({_top({l | some [n, l] in needed; n == name}), held[name]}) |
	needed := _gh_needed(tok)
	held := _gh_held(tok)
	some [name, _] in needed
	held[name]
}

_gh_repos(tok) := sort({u.resource.name |
	some u in tok.observed_usage
	u.resource.type == "repository"
})

# Repositories a subset grant already names (the collector resolved repositories_url): a starting point.
_gh_granted_repos(tok) := sort({g.resource.name |
	some g in tok.grants
	g.resource.type == "repository"
})

_gh_grouped(perms) := {group: {name: level |
	some name, level in perms
	object.get(_gh.permission_groups, name, "repository") == group
} |
	some name, _ in perms
	group := object.get(_gh.permission_groups, name, "repository")
}

_gh_org(tok) := tok.orgs[0] if count(tok.orgs) > 0

_gh_org(tok) := tok.owner if count(tok.orgs) == 0

_days := config.thresholds.max_lifetime_days

_expiry_date := time.format([config.now_ns + ((_days * 86400) * 1000000000), "UTC", "2006-01-02"])

# METADATA
# scope: document
# description: The token serves automation (stored in CI, or its name or owner says bot/ci/deploy…).
automation(tok) if count(tokens.ci_places(tok)) > 0

automation(tok) if regex.match(_gh.automation_pattern, tok.owner)

automation(tok) if {
	is_string(tok.name)
	regex.match(_gh.automation_pattern, tok.name)
}

default _is_automation(_) := false

_is_automation(tok) if automation(tok)

_gh_base(tok) := object.union_n([_gh_also(tok), _gh_packages_note(tok), {
	"provider": "github",
	"type": "fine_grained_pat",
	"resource_owner": _gh_org(tok),
	"repository_selection": "subset",
	"expires_in_days": _days,
	"expires_at": _expiry_date,
	"github_app_recommended": _is_automation(tok),
}])

_gh_held_from(tok) := "scopes" if count(tok.scopes) > 0

_gh_held_from(tok) := "grants" if count(tok.scopes) == 0

# METADATA
# description: GitHub fine-grained PAT spec replacing tok (a classic read:packages PAT when packages are all it does).
github(tok) := object.union(_gh_packages_classic(tok), {
	"derived_from": "scopes",
	"needs_owner_input": false,
	"github_app_recommended": false,
	"resource_owner": _gh_org(tok),
}) if {
	count(_gh_package_scopes(tok)) > 0
	count(_gh_held(tok)) == 0
} else := object.union(_gh_base(tok), {
	"repositories": repos,
	"permissions": _gh_grouped(perms),
	"derived_from": "observed_usage",
	"needs_owner_input": false,
}) if {
	repos := _gh_repos(tok)
	count(repos) > 0
	perms := _gh_from_usage(tok)
	count(perms) > 0
} else := object.union(_gh_base(tok), {
	"repositories": _gh_granted_repos(tok),
	"permissions": _gh_grouped(_gh_held(tok)),
	"derived_from": _gh_held_from(tok),
	"needs_owner_input": true,
	"question": sprintf(
		"Which repositories of %s does %s (owner %s) need, and which of these permissions: %s?",
		[_gh_org(tok), _token_label(tok), tok.owner, _gh_describe(_gh_without_admin(_gh_held(tok)))],
	),
})

# Administration is not asked about: the spec leaves it out (see without_admin).
_gh_without_admin(perms) := {name: level |
	some name, level in perms
	tokens.access_of("github", sprintf("%s:%s", [name, level])) != "admin"
}

_gh_describe(perms) := "none the catalogue can map (ask what it does)" if count(perms) == 0

_gh_describe(perms) := concat(", ", sort([sprintf("%s: %s", [n, l]) | some n, l in perms])) if count(perms) > 0

_gh_permission_text(spec) := "permissions to be agreed with the owner" if count(spec.permissions) == 0

_gh_permission_text(spec) := concat("; ", sort([sprintf("%s permissions %s", [group, _gh_describe(perms)]) |
	some group, perms in spec.permissions
])) if {
	count(spec.permissions) > 0
}

_gh_classic_create(spec) := sprintf(
	"Create a personal access token (classic) at https://github.com/settings/tokens/new with only %s, expiring by %s (%s)",
	[concat(", ", spec.scopes), spec.expires_at, spec.purpose],
)

_gh_create(tok, spec) := _gh_classic_create(spec) if {
	spec.type == "classic_pat"
} else := sprintf(
	concat(" ", [
		"Ask %s which repositories of %s the token needs%s, then create a fine-grained personal access token at %s",
		"with resource owner %s, only those repositories, %s, expiring by %s",
	]),
	[
		tok.owner, spec.resource_owner, _gh_today(spec), _gh.fine_grained_new_url, spec.resource_owner,
		_gh_permission_text(spec), spec.expires_at,
	],
) if {
	spec.needs_owner_input
} else := sprintf(
	"Create a fine-grained personal access token at %s: resource owner %s, only select repositories %s, %s, expiring by %s",
	[_gh.fine_grained_new_url, spec.resource_owner, concat(", ", spec.repositories), _gh_permission_text(spec), spec.expires_at],
)

_gh_today(spec) := sprintf(" (today: %s)", [concat(", ", spec.repositories)]) if count(spec.repositories) > 0

_gh_today(spec) := "" if count(spec.repositories) == 0

_gh_app_step(spec) := [] if spec.type == "classic_pat"

_gh_app_step(spec) := [sprintf(
	concat(" ", [
		"This token serves automation of %s: prefer a GitHub App installed on %s with only those repositories",
		"and permissions (installation tokens expire after an hour and belong to no person;",
		"in Actions use GITHUB_TOKEN or actions/create-github-app-token)",
	]),
	[spec.resource_owner, spec.resource_owner],
) |
	spec.github_app_recommended
] if spec.type != "classic_pat"

# The org's fine-grained PAT endpoints answer only GitHub App installation tokens; org owners use the settings page.
_gh_app_only(tok, permission, page) := sprintf(
	"(with a GitHub App installation token holding %s: write, or as an owner at https://github.com/organizations/%s/settings/%s)",
	[permission, _gh_org(tok), page],
)

_gh_revoke(tok) := sprintf(
	"Deny the request: POST /orgs/%s/personal-access-token-requests/%s with action deny %s",
	[_gh_org(tok), tok.id, _gh_app_only(tok, "organization_personal_access_token_requests", "personal-access-token-requests")],
) if {
	tok.kind == "fine_grained_pat_request"
} else := sprintf(
	"Revoke %s's access to %s: POST /orgs/%s/personal-access-tokens/%v with action revoke %s",
	[
		_token_masked(tok), _gh_org(tok), _gh_org(tok), object.get(tok, ["native", "id"], tok.id),
		_gh_app_only(tok, "organization_personal_access_tokens", "personal-access-tokens/active"),
	],
) if {
	tok.kind == "fine_grained_pat"
} else := sprintf(
	"Delete %s at %s once nothing uses it (or revoke its SSO authorization: DELETE /orgs/%s/credential-authorizations/%s)",
	[_token_masked(tok), _gh.token_settings_url, _gh_org(tok), tok.id],
)

_gh_extra_steps(spec) := array.concat(
	[_gh_classic_create(extra) | some extra in object.get(spec, "also", [])],
	[note | note := object.get(spec, "packages_note", null); is_string(note); count(object.get(spec, "also", [])) == 0],
)

# METADATA
# description: Steps that take the GitHub token tok to spec.
github_steps(tok, spec) := array.concat(
	array.concat(array.concat([_gh_create(tok, spec)], _gh_extra_steps(spec)), _gh_app_step(spec)),
	array.concat(
		[sprintf("Put the new token where %s is used today: %s", [_token_masked(tok), concat(", ", _token_places(tok))]) |
			count(tok.stored_in) > 0
		],
		[_gh_revoke(tok)],
	),
)

# Naming helpers of the GitHub and GitLab specs. They repeat replacement.rego's on purpose: the
# engine uploads one module at a time, so this file must not depend on the one that dispatches to it.
_token_label(tok) := sprintf("token %s", [tokens.label(tok)])

_token_masked(tok) := tok.masked if is_string(tok.masked)

_token_masked(tok) := tok.id if not is_string(tok.masked)

_token_places(tok) := [sprintf("%s %s%s", [p.kind, p.location, _token_place_key(p)]) | some p in tok.stored_in]

_token_place_key(place) := sprintf(" (%s)", [key]) if {
	key := object.get(place, "key", null)
	is_string(key)
} else := ""
