# GitLab replacement
# The GitLab token that replaces an over-broad one: the narrowest scopes and lowest access
# level that still cover observed usage (never more than today), an expiry within
# max_lifetime_days, and self_rotate so it can be rotated without a person.
package lib.replacement

import data.lib.config
import data.lib.tokens

_gl := config.catalogue.providers.gitlab

_gl_reg := data.token_auditor.registry.gitlab

# A scope the token can do today: held, or one a scope it holds includes. api includes Git over
# HTTP (read_repository, write_repository) only on personal access tokens, not on bot tokens.
_gl_covers(tok, scope) if scope in tok.scopes

_gl_covers(tok, scope) if {
	some held in tok.scopes
	scope in object.get(_gl_reg.scope_includes, held, [])
	not _gl_git_denied(tok, held, scope)
}

_gl_git_denied(tok, "api", scope) if {
	scope in {"read_repository", "write_repository"}
	not object.get(_gl_reg.token_types, [tok.kind, "git_over_http_with_api"], true)
}

# Scopes the token's type accepts, with the scopes GitLab requires beside them (write_registry needs read_registry).
_gl_creatable(tok, scopes) := {s |
	some s in scopes
	s in object.get(_gl_reg.token_types, [tok.kind, "scopes"], [s])
} | {need |
	some s in scopes
	some need in object.get(_gl_reg.required_together, [tok.kind, s], [])
}

_gl_usage(tok) := [entry |
	some u in tok.observed_usage
	some action in u.actions
	entry := _gl.usage_scopes[action]
]

_gl_usage_scopes(tok) := {scope |
	some entry in _gl_usage(tok)
	some scope in entry.scopes
	_gl_covers(tok, scope)
}

_gl_read_scopes(tok) := {held |
	some held in tok.scopes
	not held in _gl.broad_scopes
	not _gl.narrow_alternatives[held]
	tokens.access_of("gitlab", held) == "read"
} | {alternatives[0] |
	some held in tok.scopes
	alternatives := object.get(_gl.narrow_alternatives, held, [])
	count(alternatives) > 0
	tokens.access_of("gitlab", alternatives[0]) == "read"
}

_gl_level(tok, _) := null if not is_number(object.get(tok, "access_level", null))

_gl_level(tok, wanted) := min({wanted, tok.access_level}) if is_number(object.get(tok, "access_level", null))

_gl_base(tok) := {
	"provider": "gitlab",
	"type": tok.kind,
	"token_type": tok.kind,
	"expires_in_days": _days,
	"expires_at": _expiry_date,
	"self_rotate": true,
}

# METADATA
# description: GitLab token spec replacing tok (same kind, narrowest scopes, lowest role, expiring).
gitlab(tok) := object.union(_gl_base(tok), {
	"scopes": sort(_gl_creatable(tok, scopes | {"self_rotate"})),
	"access_level": _gl_level(tok, max({e.access_level | some e in _gl_usage(tok)})),
	"derived_from": "observed_usage",
	"needs_owner_input": false,
}) if {
	scopes := _gl_usage_scopes(tok)
	count(scopes) > 0
} else := object.union(_gl_base(tok), {
	"scopes": sort(_gl_creatable(tok, _gl_read_scopes(tok) | {"self_rotate"})),
	"access_level": _gl_level(tok, 20),
	"derived_from": "scopes",
	"needs_owner_input": true,
	"question": sprintf(
		"What does %s (owner %s) do? The proposal keeps read access only (%s); say which projects it must write to",
		[_token_label(tok), tok.owner, concat(", ", sort(_gl_read_scopes(tok)))],
	),
})

_gl_kind := object.get(_gl, "kinds", {})

_gl_self_rotate(tok) := endpoint if {
	some endpoint in object.get(_gl_reg.endpoints, [tok.kind, "rotate"], [])
	contains(endpoint, "/self/")
} else := "POST /personal_access_tokens/self/rotate"

_gl_where(tok) := object.get(_gl_kind, [tok.kind, "settings"], "the token settings")

_gl_role(spec) := "" if spec.access_level == null

_gl_role(spec) := sprintf(", role %s (%d)", [
	object.get(_gl.access_levels, format_int(spec.access_level, 10), "?"),
	spec.access_level,
]) if {
	spec.access_level != null
}

_gl_create(tok, spec) := sprintf(
	"Ask %s what the token must write; then create a new %s in %s with scopes %s%s, expiring on %s",
	[tok.owner, replace(tok.kind, "_", " "), _gl_where(tok), concat(", ", spec.scopes), _gl_role(spec), spec.expires_at],
) if {
	spec.needs_owner_input
} else := sprintf(
	"Create a new %s in %s with scopes %s%s, expiring on %s",
	[replace(tok.kind, "_", " "), _gl_where(tok), concat(", ", spec.scopes), _gl_role(spec), spec.expires_at],
)

# METADATA
# description: Steps that take the GitLab token tok to spec.
gitlab_steps(tok, spec) := array.concat(
	[
		_gl_create(tok, spec),
		sprintf("Rotate it before expiry with its self_rotate scope: %s", [_gl_self_rotate(tok)]),
	],
	array.concat(
		[sprintf("Put the new token where %s is used today: %s", [_token_masked(tok), concat(", ", _token_places(tok))]) |
			count(tok.stored_in) > 0
		],
		[sprintf("Revoke %s once nothing uses it: %s", [
			_token_masked(tok),
			sprintf(object.get(_gl_kind, [tok.kind, "revoke"], "revoke token %s"), [tok.id]),
		])],
	),
)
