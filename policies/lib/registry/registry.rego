# METADATA
# title: Provider registries
# description: |
#   Whether a proposed credential is one the provider would let someone create, checked against
#   data.token_auditor.registry (permission names and levels, scopes per token type, required
#   scope pairs, where a permission can be granted). auditor/registry.py is the Python twin.
package lib.registry

import data.lib.config

_reg := data.token_auditor.registry

_rated(provider, name) := object.get(config.catalogue.providers, [provider, "permissions", name], null)

_scope_rated(provider, name) := object.get(config.catalogue.providers, [provider, "scopes", name], null)

# METADATA
# description: Why the provider would refuse to create credential c or one it comes with ("also").
problems(c) := _problems(c.provider, c) | {p |
	some extra in object.get(c, "also", [])
	some p in _problems(extra.provider, extra)
}

_problems("github", c) := _github(c)

_problems("gitlab", c) := _gitlab(c)

_problems("huggingface", c) := _huggingface(c)

_problems(provider, _) := set() if provider in {"npm", "pypi"}

_github(c) := {sprintf("github token type %v does not exist", [c.type])} if {
	not _reg.github.token_types[c.type]
} else := {p |
	some group, entries in object.get(c, "permissions", {})
	some name, level in entries
	some p in _github_permission(c.type, group, name, level)
} | {p |
	some scope in object.get(c, "scopes", [])
	some p in _github_scope(scope)
}

_github_permission(kind, group, name, level) := {sprintf("github permission %v does not exist", [name])} if {
	# regal ignore:external-reference
	not _reg.github.permissions[name]
} else := {p |
	# regal ignore:external-reference
	offered := _reg.github.permissions[name]
	some p in ((({
	sprintf("github permission %s has no level %v", [name, level]) |
		not level in offered.levels
	} | {
	sprintf("github permission %s is a %s permission, not %s", [name, offered.group, group]) |
		offered.group != group
	}) | {
	sprintf("github %s: GitHub Packages registries accept only classic PATs", [name]) |
		kind == "fine_grained_pat"

		# regal ignore:external-reference
		name in _reg.github.package_registries.permissions
	}) | {
	sprintf("github %s:%s is admin-rated", [name, level]) |
		_rated("github", sprintf("%s:%s", [name, level])) == "admin"
	})
}

_github_scope(scope) := {sprintf("github scope %v does not exist", [scope])} if {
	not _reg.github.classic_scopes[scope]
} else := {sprintf("github scope %s is admin-rated", [scope]) | _scope_rated("github", scope) == "admin"}

_gl_kind(c) := object.get(c, "type", object.get(c, "token_type", null))

_gitlab(c) := {sprintf("gitlab token type %v does not exist", [_gl_kind(c)])} if {
	not _reg.gitlab.token_types[_gl_kind(c)]
} else := ((_gl_scopes(c) | _gl_pairs(c)) | _gl_level(c)) | {sprintf("gitlab scope %s is admin-rated", [s]) |
	some s in object.get(c, "scopes", [])
	_scope_rated("gitlab", s) == "admin"
}

_gl_scopes(c) := {sprintf("gitlab %s does not accept scope %v", [_gl_kind(c), s]) |
	some s in object.get(c, "scopes", [])
	not s in _reg.gitlab.token_types[_gl_kind(c)].scopes
}

_gl_pairs(c) := {sprintf("gitlab %s with %s also needs %s", [_gl_kind(c), scope, need]) |
	some scope, needs in _reg.gitlab.required_together[_gl_kind(c)]
	scope in object.get(c, "scopes", [])
	some need in needs
	not need in object.get(c, "scopes", [])
}

_gl_level(c) := set() if {
	object.get(c, "access_level", null) == null
} else := {sprintf("gitlab %s has no access level", [_gl_kind(c)])} if {
	not _reg.gitlab.token_types[_gl_kind(c)].access_level
} else := {sprintf("gitlab access level %v does not exist", [c.access_level])} if {
	not _reg.gitlab.access_levels[format_int(c.access_level, 10)]
} else := {"gitlab access level 50 (owner) is admin-rated"} if {
	_reg.gitlab.access_levels[format_int(c.access_level, 10)] == "owner"
} else := set()

_hf_where(type) := "repo" if type in _reg.huggingface.repo_entity_types

_hf_where(type) := type if not type in _reg.huggingface.repo_entity_types

_huggingface(c) := {sprintf("huggingface token type %v does not exist", [c.type])} if {
	not _reg.huggingface.token_types[c.type]
} else := ({p |
	some entry in object.get(c, "scoped", [])
	some p in _hf_entry(entry)
} | {p |
	some name in object.get(c, "global", [])
	some p in _hf_permission(name, "global")
}) | {sprintf("huggingface %s can no longer be created", [c.type]) |
	_reg.huggingface.token_types[c.type].creatable == false
}

_hf_entry(entry) := {sprintf("huggingface entity type %v does not exist", [entry.entity.type])} if {
	not entry.entity.type in _reg.huggingface.entity_types
} else := {p |
	some name in entry.permissions
	some p in _hf_permission(name, _hf_where(entry.entity.type))
}

_hf_permission(name, where) := {sprintf("huggingface permission %v does not exist", [name])} if {
	# regal ignore:external-reference
	not _reg.huggingface.permissions[name]
} else := {sprintf("huggingface permission %s cannot be granted on a %s", [name, where])} if {
	# regal ignore:external-reference
	not where in _reg.huggingface.permissions[name].on
} else := {sprintf("huggingface permission %s is admin-rated", [name])} if {
	# regal ignore:external-reference
	_reg.huggingface.permissions[name].admin
} else := set()

# Every catalogue entry, of every provider, that the provider's registry does not offer.
_catalogue_problems := (((({sprintf("%s catalogue permission %s is not in the registry", [provider, key]) |
	provider := "github"
	some key, _ in config.catalogue.providers.github.permissions
	[name, level] := split(key, ":")
	not level in object.get(_reg.github.permissions, [name, "levels"], [])
} | {sprintf("%s catalogue usage %s names %s:%s, not in the registry", [provider, action, name, level]) |
	provider := "github"
	some action, permissions in config.catalogue.providers.github.usage_permissions
	some name, level in permissions
	not level in object.get(_reg.github.permissions, [name, "levels"], [])
}) | {sprintf("%s catalogue sensitive entry %s is not in the registry", [provider, entry]) |
	provider := "github"
	some entry in config.catalogue.providers.github.sensitive
	not config.catalogue.providers.github.permissions[entry]
	not _reg.github.classic_scopes[entry]
}) | {sprintf("%s catalogue scope %s is not in the registry", [provider, scope]) |
	provider := "github"
	some scope, _ in config.catalogue.providers.github.scopes
	not _reg.github.classic_scopes[scope]
}) | {sprintf("%s catalogue scope %s is not in the registry", [provider, scope]) |
	provider := "gitlab"
	some scope, _ in config.catalogue.providers.gitlab.scopes
	not _gl_any_type_accepts(scope)
}) | {sprintf("%s catalogue permission %s is not in the registry", [provider, name]) |
	provider := "huggingface"
	some name, _ in config.catalogue.providers.huggingface.permissions
	not startswith(name, "role.")
	name != "gated.read"
	not _reg.huggingface.permissions[name]
}

# METADATA
# description: Catalogue entries of provider (permission:level, scope, usage or sensitive entry) its registry lacks.
catalogue_problems(provider) := {p |
	some p in _catalogue_problems
	startswith(p, concat("", [provider, " "]))
}

_gl_any_type_accepts(scope) if {
	some spec in _reg.gitlab.token_types
	scope in spec.scopes
}

# Every "METHOD /path" the registry knows for provider (GitHub keys them; GitLab lists them by token type and action).
_endpoints("github") := object.keys(_reg.github.endpoints)

_endpoints("gitlab") := {e |
	some actions in _reg.gitlab.endpoints
	some list in actions
	some e in list
}

_endpoints(provider) := set() if not provider in {"github", "gitlab"}

# A registry path as a pattern: each :placeholder or {placeholder} segment matches one segment.
_pattern(endpoint) := concat("", ["^", regex.replace(_escaped(endpoint), `(:[a-z_]+|\{[a-z_]+\})`, `[^/ ]+`), "$"])

_escaped(endpoint) := regex.replace(endpoint, `[.]`, `\.`)

_endpoint_pattern := `(GET|POST|PUT|PATCH|DELETE) /[A-Za-z0-9_:{}./%@-]+`

_named(text) := {trim_right(m[0], ".,;)") | some m in regex.find_all_string_submatch_n(_endpoint_pattern, text, -1)}

# METADATA
# description: API endpoints the steps name that the provider's registry does not have.
step_problems(provider, steps) := {sprintf("%s endpoint %s is not in the registry", [provider, named]) |
	some step in steps
	some named in _named(step)
	not _known(provider, named)
}

_known(provider, named) if {
	some endpoint in _endpoints(provider)
	regex.match(_pattern(endpoint), named)
}
