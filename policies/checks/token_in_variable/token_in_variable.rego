# METADATA
# title: Token in a plain-text variable
# description: |
#   Space variables are not secrets: anyone who can see the Space (everyone, for a public one)
#   reads them, and they are copied into duplicates. A token kept in a variable, or a variable
#   whose value is a token, has been handed out.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/spaces-overview#managing-secrets
#     description: Space secrets and variables
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: token-in-variable
#   severity: critical
#   nhi: [NHI2]
#   recommended_action: rotate
package checks.token_in_variable

import data.lib.finding
import data.lib.subjects
import data.lib.tokens

# METADATA
# description: One finding per variable the inventory says holds the token.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"instance": sprintf("%s:%s#%s", [place.kind, place.location, _name(place)]),
	"message": sprintf("%s token %s of %s is stored in the plain-text variable %s of %s, readable by anyone who can see it", [
		tok.provider, tokens.label(tok), tok.owner, _name(place), place.location,
	]),
	"evidence": {
		"location": place.location, "kind": place.kind,
		"key": object.get(place, "key", null), "public": object.get(place, "public", null),
	},
	"recommendation": {
		"action": "rotate",
		"summary": sprintf("Revoke %s, issue a new token and keep it in a secret, not a variable", [tokens.label(tok)]),
		"steps": [
			sprintf("Revoke %s now: its value was readable in %s", [tokens.label(tok), place.location]),
			sprintf("Delete the variable %s of %s", [_name(place), place.location]),
			sprintf("Create a new narrowly scoped token and store it as a secret of %s", [place.location]),
		],
	},
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	some place in tok.stored_in
	tokens.storage_class(place.kind) == "public_variable"
}

# METADATA
# description: One finding per variable of a location whose value looked like a token (already redacted).
findings contains finding.new(rego.metadata.chain(), subjects.location(loc), {
	"instance": key,
	"message": sprintf("variable %s of %s %s holds a token value%s", [key, loc.kind, loc.name, _public(loc)]),
	"evidence": {"location": loc.name, "variable": key, "public": object.get(loc, "public", null)},
	"recommendation": {
		"action": "rotate",
		"summary": sprintf("Revoke the token in variable %s of %s and move its replacement into a secret", [key, loc.name]),
		"steps": [
			sprintf("Find which token the value of %s is (its masked form is in the inventory) and revoke it", [key]),
			sprintf("Delete the variable %s of %s", [key, loc.name]),
			sprintf("Create a new narrowly scoped token and store it as a secret of %s", [loc.name]),
		],
	},
}) if {
	some loc in input.locations
	some key in object.get(loc, "token_like_variables", [])
}

_name(place) := place.key if is_string(object.get(place, "key", null))

_name(place) := "(unnamed)" if not is_string(object.get(place, "key", null))

_public(loc) := ", readable by anyone" if loc.public == true

_public(loc) := "" if not loc.public == true
