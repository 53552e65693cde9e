# METADATA
# title: Real token value in the inventory
# description: |
#   An inventory should hold ids, prefixes and last four characters, never a token value. A value
#   found here (redacted before evaluation) has been copied into a file that is shared, stored
#   and versioned: treat the token as leaked.
# related_resources:
#   - ref: https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025
#     description: OWASP NHI2 Secret leakage
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: raw-secret-in-inventory
#   severity: critical
#   nhi: [NHI2]
#   recommended_action: purge
package checks.raw_secret_in_inventory

import data.lib.finding
import data.lib.subjects

# METADATA
# description: One finding per place (file and JSON pointer) where a token value was found.
findings contains finding.new(rego.metadata.chain(), subjects.secret(s), {
	"instance": sprintf("%s#%s", [s.file, s.pointer]),
	"message": sprintf("%s contains a %s token value (%s) at %s%s", [s.file, s.provider, s.masked, s.pointer, _of(s)]),
	"evidence": {
		"file": s.file, "pointer": s.pointer, "prefix": s.prefix,
		"masked": s.masked, "token": object.get(s, "token", null),
	},
	"recommendation": {
		"action": "purge",
		"summary": sprintf("Revoke the %s token %s and remove its value from %s and its history", [s.provider, s.masked, s.file]),
		"steps": [
			sprintf("Revoke and re-create the %s token %s: its value was written to a file", [s.provider, s.masked]),
			sprintf("Delete the value at %s in %s, and from version history and copies of the file", [s.pointer, s.file]),
			"Export inventories with ids, prefixes and last four characters only",
		],
	},
}) if {
	some s in input.secrets
}

_of(s) := sprintf(" (in the entry of token %s)", [s.token]) if is_string(object.get(s, "token", null))

_of(s) := "" if not is_string(object.get(s, "token", null))
