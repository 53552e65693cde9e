# METADATA
# title: Token stored in a public Space
# description: |
#   A secret of a public Space is readable by the Space's code, which anyone can read, duplicate
#   and probe; a leaked log line or a vulnerable app hands the token out. Public apps should hold
#   no token, or a read-only one scoped to exactly the repositories they load.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/spaces-overview#managing-secrets
#     description: Space secrets and variables
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: exposed-in-public-space
#   severity: critical
#   nhi: [NHI2]
#   recommended_action: narrow
#   requires: [spaces]
package checks.exposed_in_public_space

import data.lib.finding
import data.lib.tokens

# METADATA
# description: |
#   One finding per public app (Space) whose secrets hold the token; critical when it can
#   write, or when its access is unknown (not introspectable), else high.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"severity": _severity(tok),
	"instance": sprintf("%s:%s", [place.kind, place.location]),
	"message": sprintf("%s token %s of %s (%s access) is a secret%s of the public Space %s", [
		tok.provider, tokens.label(tok), tok.owner, _access(tok), _key(place), place.location,
	]),
	"evidence": {
		"location": place.location, "kind": place.kind,
		"key": object.get(place, "key", null), "can_write": _can_write(tok),
	},
	"recommendation": {
		"action": "narrow",
		"summary": sprintf("Make %s private, or give it its own read-only token scoped to the repositories it loads", [place.location]),
		"steps": [
			sprintf(
				"Create a fine-grained read-only token for %s with only repo.content.read on the repositories the Space loads",
				[place.location],
			),
			sprintf("Replace the secret%s of %s with it (or make the Space private if it must write)", [_key(place), place.location]),
			sprintf("Rotate %s: it has been reachable from a public app", [tokens.label(tok)]),
		],
	},
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	some place in tok.stored_in
	place.public == true
	tokens.storage_class(place.kind) == "app_secret"
}

_severity(tok) := "critical" if tokens.can_write(tok)

_severity(tok) := "critical" if _unknown(tok)

_severity(tok) := "high" if {
	not tokens.can_write(tok)
	not _unknown(tok)
}

_unknown(tok) if object.get(tok, "introspected", true) == false

_access(tok) := "unknown" if _unknown(tok)

else := tokens.max_access(tok)

_key(place) := sprintf(" %s", [place.key]) if is_string(object.get(place, "key", null))

_key(place) := "" if not is_string(object.get(place, "key", null))

_can_write(tok) := null if {
	_unknown(tok)
} else if {
	tokens.can_write(tok)
} else := false
