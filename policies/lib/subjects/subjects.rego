# METADATA
# title: Finding subjects other than tokens
# description: |
#   The subject objects of organization, location and secret findings, shaped like token
#   subjects (type, key, id, provider, name, owner, masked, source) so reports treat all alike.
package lib.subjects

# METADATA
# description: The subject of a finding about an organization of input.orgs.
org(o) := {
	"type": "org",
	"key": sprintf("org:%s:%s", [o.provider, o.name]),
	"id": o.name,
	"provider": o.provider,
	"kind": "org",
	"name": o.name,
	"owner": o.name,
	"masked": null,
	"source": object.get(o, "source", null),
}

# METADATA
# description: The subject of a finding about a storage location of input.locations.
location(loc) := {
	"type": "location",
	"key": sprintf("location:%s:%s:%s", [_provider(loc), loc.kind, loc.name]),
	"id": loc.name,
	"provider": _provider(loc),
	"kind": loc.kind,
	"name": loc.name,
	"owner": split(loc.name, "/")[0],
	"masked": null,
	"source": object.get(loc, "source", null),
}

_provider(loc) := loc.provider if is_string(object.get(loc, "provider", null))

_provider(loc) := "any" if not is_string(object.get(loc, "provider", null))

# METADATA
# description: The subject of a finding about a token value found in an input file (input.secrets).
secret(s) := {
	"type": "secret",
	"key": sprintf("secret:%s", [s.digest]),
	"id": s.digest,
	"provider": s.provider,
	"kind": "secret",
	"name": sprintf("%s token value", [s.provider]),
	"owner": null,
	"masked": s.masked,
	"token": object.get(s, "token", null),
	"source": {"file": s.file, "pointer": s.pointer},
}
