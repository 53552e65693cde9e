# METADATA
# title: Fine-grained replacement
# description: |
#   Derives the fine-grained token to create instead of an over-broad one, never granting more
#   than the token has today: from observed usage, else an explicit question for the owner
#   (naming the Spaces it runs in, whose loaded repositories it needs).
package lib.replacement

import data.lib.config
import data.lib.text
import data.lib.tokens

_hf := config.catalogue.providers.huggingface

# METADATA
# description: Hugging Face fine-grained token spec (the Hub's own shape) replacing tok.
huggingface(tok) := object.union(_hf_base(tok), {
	"scoped": scoped,
	"global": global,
	"canReadGatedRepos": false,
	"derived_from": "observed_usage",
	"needs_owner_input": false,
}) if {
	count(tok.observed_usage) > 0
	scoped := _from_usage(tok)
	global := _global_from_usage(tok)
	count(scoped) + count(global) > 0
} else := object.union(_hf_ask(tok), {"derived_from": "storage", "question": sprintf(
	"%s runs in the Space%s %s: which models and datasets does it load (or push to)? Grant read on those only, not on the Space",
	[_label(tok), text.plural(spaces), concat(", ", spaces)],
)}) if {
	spaces := _from_spaces(tok)
	count(spaces) > 0
} else := object.union(_hf_ask(tok), {"derived_from": "none", "question": sprintf(
	"Which repositories does %s (owner %s) need, and does it need to write to them?",
	[_label(tok), tok.owner],
)})

_hf_ask(tok) := object.union(_hf_base(tok), {
	"scoped": [],
	"global": [],
	"canReadGatedRepos": false,
	"needs_owner_input": true,
})

# A service account's token is replaced by a service-account token; every other kind by a user's
# fine-grained token (org API tokens are deprecated and can no longer be created).
_hf_type(tok) := "service_account_token" if tok.kind == "service_account_token"

_hf_type(tok) := "user_access_token" if tok.kind != "service_account_token"

_hf_base(tok) := {"provider": "huggingface", "type": _hf_type(tok)}

_label(tok) := sprintf("token %s", [tokens.label(tok)])

# A write the token cannot do today on that repository (or on a whole namespace, which the
# replacement must not grant) is recommended as a read.
_action_permissions(tok, entity, "write") := _hf.usage_permissions.read if not _writes_to(tok, entity)

_action_permissions(tok, entity, action) := object.get(_hf.usage_permissions, action, []) if {
	not _write_downgraded(tok, entity, action)
}

_write_downgraded(tok, entity, "write") if not _writes_to(tok, entity)

_writes_to(tok, entity) if {
	not entity.type in _hf.namespace_types
	some grant in tok.grants
	_covers(grant.resource, entity)
	tokens.grant_access(tok.provider, grant) in {"write", "admin"}
}

# A legacy write token writes wherever its owner can, beyond the namespaces the inventory lists.
_writes_to(tok, entity) if {
	not entity.type in _hf.namespace_types
	tok.legacy
	tokens.can_write(tok)
}

_covers(resource, entity) if resource == entity

_covers(resource, entity) if {
	resource.type in _hf.namespace_types
	resource.name == split(entity.name, "/")[0]
}

_hf_reg := data.token_auditor.registry.huggingface

# Where a permission can be granted: "repo" for models, datasets and Spaces, else the entity type.
_grantable(permission, entity_type) if {
	entity_type in _hf_reg.repo_entity_types
	"repo" in _hf_reg.permissions[permission].on
}

_grantable(permission, entity_type) if {
	not entity_type in _hf_reg.repo_entity_types
	entity_type in _hf_reg.permissions[permission].on
}

# Role tokens (read/write, org API tokens) can call Inference Providers; fine-grained ones only when granted.
_hf_holds(tok, _) if tok.legacy

_hf_holds(tok, _) if tok.kind == "org_api_token"

_hf_holds(tok, permission) if permission in tok.global_permissions

_hf_holds(tok, permission) if {
	some grant in tok.grants
	permission in grant.permissions
}

# The token can use permission on entity today: a role token by its role, a fine-grained one by a
# grant on the entity or its namespace (repo.write includes reading the repository).
_hf_may(tok, _, _) if {
	tok.legacy
	tokens.can_write(tok)
}

_hf_may(tok, permission, _) if {
	tok.legacy
	tokens.access_of(tok.provider, permission) == "read"
}

_hf_may(tok, permission, entity) if {
	some grant in tok.grants
	_covers(grant.resource, entity)
	_hf_grant_has(grant, permission)
}

_hf_grant_has(grant, permission) if permission in grant.permissions

_hf_grant_has(grant, "repo.content.read") if "repo.write" in grant.permissions

# Usage that needs a permission the Hub grants only per user or org (Inference Providers), never on a repository.
_global_from_usage(tok) := sort({p |
	some u in tok.observed_usage
	some action in u.actions
	some p in object.get(_hf.usage_permissions, action, [])
	not _grantable(p, u.resource.type)
	"global" in object.get(_hf_reg.permissions, [p, "on"], [])
	_hf_holds(tok, p)
})

_from_usage(tok) := [{"entity": {"type": type, "name": name}, "permissions": permissions} |
	some [type, name] in {[u.resource.type, u.resource.name] | some u in tok.observed_usage}
	permissions := sort({p |
		some u in tok.observed_usage
		u.resource.type == type
		u.resource.name == name
		some action in u.actions
		some p in _action_permissions(tok, {"type": type, "name": name}, action)
		_grantable(p, type)
		_hf_may(tok, p, {"type": type, "name": name})
	})
	count(permissions) > 0
]

# Spaces the token is stored in: what it needs is what the Space's code loads, which the inventory does not say.
_from_spaces(tok) := sort({place.location |
	some place in tok.stored_in
	place.kind in {"hf_space_secret", "hf_space_variable"}
})

# METADATA
# description: Steps to replace tok by the spec, then revoke it.
huggingface_steps(tok, spec) := array.concat(
	array.concat(
		[_create_step(spec)],
		[sprintf("Put the new token where %s is used today: %s", [_masked(tok), concat(", ", _places(tok))]) |
			count(tok.stored_in) > 0
		],
	),
	array.concat(
		[sprintf("For CI (%s), prefer %s", [concat(", ", [p.location | some p in tokens.ci_places(tok)]), _hf.keyless_alternative]) |
			count(tokens.ci_places(tok)) > 0
		],
		[_hf_revoke(tok)],
	),
)

_hf_revoke(tok) := sprintf(
	"Revoke the deprecated organization API token %s in %s's organization settings (%s) once nothing uses it",
	[_masked(tok), tok.owner, sprintf(_hf.org_api_token_revoke_url, [tok.owner])],
) if {
	tok.kind == "org_api_token"
} else := sprintf(
	"Revoke %s in the service account's settings (%s) once nothing uses it",
	[_masked(tok), sprintf(_hf.service_account_settings_url, [_hf_org(tok)])],
) if {
	tok.kind == "service_account_token"
} else := sprintf("Revoke %s at https://huggingface.co/settings/tokens once nothing uses it", [_masked(tok)])

_hf_org(tok) := tok.orgs[0] if count(tok.orgs) > 0

_hf_org(tok) := tok.owner if count(tok.orgs) == 0

_create_step(spec) := "Ask the owner which repositories the token needs, then create a fine-grained token with only those" if {
	spec.needs_owner_input
} else := sprintf(
	"Create a fine-grained %s with only: %s",
	[_hf_where_created(spec), concat("; ", array.concat(
		[sprintf("%s %s: %s", [s.entity.type, s.entity.name, concat(", ", s.permissions)]) | some s in spec.scoped],
		[sprintf("user permissions: %s", [concat(", ", spec.global)]) | count(spec.global) > 0],
	))],
)

_hf_where_created(spec) := "service-account token (the organization's Settings → Service accounts)" if {
	spec.type == "service_account_token"
} else := "token at https://huggingface.co/settings/tokens/new?tokenType=fineGrained"

_masked(tok) := tok.masked if is_string(tok.masked)

_masked(tok) := tok.id if not is_string(tok.masked)

_places(tok) := [sprintf("%s %s%s", [p.kind, p.location, _key(p)]) | some p in tok.stored_in]

_key(place) := sprintf(" (%s)", [key]) if {
	key := object.get(place, "key", null)
	is_string(key)
} else := ""

# METADATA
# description: |
#   The replacement spec for tok, by provider (other providers get an owner question), with every
#   admin-rated permission, scope or Owner role left out: administration belongs to people.
spec(tok) := without_admin(tok, _provider_spec(tok))

_provider_spec(tok) := huggingface(tok) if {
	tok.provider == "huggingface"
} else := github(tok) if {
	tok.provider == "github"
} else := gitlab(tok) if {
	tok.provider == "gitlab"
} else := {
	"provider": tok.provider,
	"needs_owner_input": true,
	"derived_from": "none",
	"question": sprintf(
		"Which resources does %s (owner %s) need, with which permissions, and for how long?",
		[_label(tok), tok.owner],
	),
}

# METADATA
# description: The steps that take tok to spec.
steps(tok, s) := huggingface_steps(tok, s) if {
	tok.provider == "huggingface"
} else := github_steps(tok, s) if {
	tok.provider == "github"
} else := gitlab_steps(tok, s) if {
	tok.provider == "gitlab"
} else := array.concat(
	array.concat(["Ask the owner which resources and permissions the token needs"], _generic_create(tok)),
	[sprintf("Revoke %s once nothing uses it", [_masked(tok)])],
)

# The provider's own way to create a narrow token (npm granular tokens, PyPI project tokens), else a generic step.
_generic_create(tok) := tokens.catalogue(tok).replacement_steps if {
	tokens.catalogue(tok).replacement_steps
} else := [sprintf("Create a narrowly scoped, expiring %s token with only those", [tok.provider])]

# METADATA
# description: |
#   The full recommendation for replacing tok with a fine-grained token. A third-party app's
#   token (OAuth app, GitHub App) is no one's to replace with a personal token: the advice
#   concerns the app's authorization and the organization's access restrictions.
recommend_replacement(tok, summary) := _app_advice(tok) if {
	tok.kind in object.get(tokens.catalogue(tok), "third_party_kinds", [])
} else := {
	"action": "replace",
	"summary": summary,
	"replacement": s,
	"steps": steps(tok, s),
} if {
	s := spec(tok)
}

_app_advice(tok) := {
	"action": "narrow",
	"summary": sprintf("Narrow the %s's authorization instead: a personal token does not replace an app", [_app_word(tok)]),
	"replacement": null,
	"steps": [
		sprintf("Ask %s what the app behind %s does with %s", [tok.owner, _label(tok), concat(", ", _app_grants(tok))]),
		concat(" ", [
			"Revoke the authorization (the user's Settings → Applications, or the org's credential authorizations)",
			"and re-authorize with fewer scopes, or replace the app by a GitHub App installed on selected repositories",
		]),
		"Enable the organization's OAuth app access restrictions so only approved apps reach its resources",
	],
}

_app_word(tok) := replace(tok.kind, "_", " ")

_app_grants(tok) := sort({p | some [p, _] in tokens.permission_levels(tok)})

# METADATA
# description: A replacement spec without admin-rated permissions, scopes or Owner role.
without_admin(tok, s) := object.union(object.remove(s, object.keys(stripped)), stripped) if {
	stripped := object.union_n([
		_scoped_without_admin(tok, s),
		_permissions_without_admin(tok, s),
		_scopes_without_admin(tok, s),
		_level_without_owner(s),
	])
}

_scoped_without_admin(tok, s) := {"scoped": [entry |
	some scoped in s.scoped
	kept := [p | some p in scoped.permissions; tokens.access_of(tok.provider, p) != "admin"]
	count(kept) > 0
	entry := object.union(scoped, {"permissions": kept})
]} if is_array(s.scoped)

_scoped_without_admin(_, s) := {} if not is_array(object.get(s, "scoped", null))

_permissions_without_admin(tok, s) := {"permissions": {group: kept |
	some group, entries in s.permissions
	kept := {name: level |
		some name, level in entries
		tokens.access_of(tok.provider, sprintf("%s:%s", [name, level])) != "admin"
	}
	count(kept) > 0
}} if is_object(s.permissions)

_permissions_without_admin(_, s) := {} if not is_object(object.get(s, "permissions", null))

_scopes_without_admin(tok, s) := {"scopes": [scope |
	some scope in s.scopes
	tokens.access_of(tok.provider, scope) != "admin"
]} if is_array(s.scopes)

_scopes_without_admin(_, s) := {} if not is_array(object.get(s, "scopes", null))

# Maintainer (40) is the highest role a token needs; Owner (50) administers the group.
_level_without_owner(s) := {"access_level": 40} if s.access_level == 50

_level_without_owner(s) := {} if object.get(s, "access_level", null) != 50
