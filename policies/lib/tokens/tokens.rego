# METADATA
# title: Token capabilities
# description: |
#   What a normalized token can do, decided from the policy catalogue
#   (data.token_auditor.catalogue) so adapters report facts and policies judge them.
# schemas:
#   - input: schema["policy-input"]
package lib.tokens

import data.lib.config

_rank := {"none": 0, "read": 1, "write": 2, "admin": 3}

_catalogue(provider) := object.get(config.catalogue.providers, provider, {})

# METADATA
# description: Access level ("read", "write" or "admin") one provider permission or scope gives.
access_of(provider, permission) := level if {
	level := _catalogue(provider).permissions[permission]
} else := level if {
	level := _catalogue(provider).scopes[permission]
} else := "admin" if {
	some prefix in object.get(_catalogue(provider), "admin_prefixes", [])
	startswith(permission, prefix)
	_writes(permission)
} else := "admin" if {
	contains(lower(permission), "admin")
} else := "write" if {
	_writes(permission)
} else := "read"

_writes(permission) if regex.match(`(?i)(^|[._:\-])(write|delete|manage)($|[._:\-])`, permission)

# METADATA
# scope: document
# description: "Access a grant gives: its explicit access, else its strongest permission."
grant_access(_, grant) := grant.access

grant_access(provider, grant) := level if {
	not grant.access
	level := _strongest([access_of(provider, p) | some p in grant.permissions])
}

_strongest(levels) := "none" if count(levels) == 0

_strongest(levels) := level if {
	count(levels) > 0
	top := max([r | some l in levels; r := _rank[l]])
	some level, rank in _rank
	rank == top
}

# METADATA
# description: Every permission or scope the token holds, with the access each gives.
permission_levels(tok) := {[p, access_of(tok.provider, p)] |
	some p in _all_permissions(tok)
}

_all_permissions(tok) := ({p |
	some grant in tok.grants
	some p in grant.permissions
} | {p | some p in tok.global_permissions}) | {p | some p in tok.scopes}

# METADATA
# description: The token's strongest access over all grants, global permissions and scopes.
max_access(tok) := _strongest(array.concat(
	[grant_access(tok.provider, g) | some g in tok.grants],
	[access_of(tok.provider, p) | some p in array.concat(tok.global_permissions, tok.scopes)],
))

# METADATA
# description: The token can change something (write or admin).
can_write(tok) if _rank[max_access(tok)] >= 2

# METADATA
# description: Permissions or scopes of the token that give admin access, sorted.
admin_permissions(tok) := sort([p |
	some [p, level] in permission_levels(tok)
	level == "admin"
])

# METADATA
# description: The catalogue entry for the token's provider ({} when unknown).
catalogue(tok) := _catalogue(tok.provider)

# METADATA
# description: The subject object findings about this token carry.
subject(tok) := {
	"type": "token",
	"key": _key(tok),
	"id": tok.id,
	"provider": tok.provider,
	"kind": object.get(tok, "kind", "token"),
	"name": object.get(tok, "name", null),
	"owner": tok.owner,
	"masked": object.get(tok, "masked", null),
	"source": object.get(tok, "source", null),
}

_key(tok) := key if {
	key := tok.key
} else := sprintf("%s:%s:%s", [tok.provider, object.get(tok, "kind", "token"), tok.id])

# METADATA
# description: Stored places of the token that are CI systems (where keyless auth is possible).
ci_places(tok) := [place |
	some place in tok.stored_in
	storage_class(place.kind) == "ci_secret"
]

# METADATA
# scope: document
# description: How messages name the token, quoted name or id.
label(tok) := sprintf("%q", [name]) if {
	name := object.get(tok, "name", null)
	is_string(name)
} else := tok.id

# false, not undefined, for a live token: OPA caches only defined function results, and many rules ask.

# METADATA
# description: The token has an expiry date before input.now (it no longer works).
expired(tok) if {
	is_string(tok.expires_at)
	time.parse_rfc3339_ns(tok.expires_at) < config.now_ns
} else := false

# METADATA
# description: The tokens of input.tokens that have not expired (expired ones get only expired-token).
live := [tok |
	some tok in input.tokens
	not expired(tok)
]

# METADATA
# description: |
#   What a storage kind is ("app_secret", "public_variable", …) according to the providers'
#   catalogues (storage_kinds), whatever the token's own provider; "other" when no catalogue knows it.
storage_class(kind) := object.get(_storage_classes, kind, "other")

# Built once per evaluation: the least class any catalogue gives each storage kind.
_storage_classes[kind] := min({class |
	some catalogue in config.catalogue.providers
	class := catalogue.storage_kinds[kind]
}) if {
	some catalogue in config.catalogue.providers
	some kind, _ in catalogue.storage_kinds
}
