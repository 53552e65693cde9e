# METADATA
# title: Spend or persistence permission
# description: |
#   Some permissions let a token spend money or leave something behind that outlives the token:
#   creating paid inference endpoints or jobs, registering webhooks, reading billing. Keep them
#   out of tokens that do not need them.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/security-tokens
#     description: Fine-grained token permissions
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: sensitive-permission
#   severity: medium
#   nhi: [NHI5]
#   recommended_action: narrow
package checks.sensitive_permission

import data.lib.finding
import data.lib.text
import data.lib.tokens

# METADATA
# description: One finding per token holding permissions the provider's catalogue lists as sensitive.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s holds spend/persistence permission%s %s", [
		tok.provider, tokens.label(tok), tok.owner, text.plural(held), concat(", ", held),
	]),
	"evidence": {"sensitive_permissions": held},
	"recommendation": {
		"action": "narrow",
		"summary": sprintf("Remove %s unless this token's job needs it", [concat(", ", held)]),
		"steps": [
			sprintf("Confirm with %s whether the token creates endpoints, jobs or webhooks, or reads billing", [tok.owner]),
			sprintf(
				"Edit the token's permissions and untick %s (or create a new token without them and revoke this one)",
				[concat(", ", held)],
			),
		],
		"replacement": _without(tok, {p | some p in array.concat(held, tokens.admin_permissions(tok))}),
	},
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	held := _sensitive(tok)
	count(held) > 0
}

_sensitive(tok) := sort({p |
	some [p, _] in tokens.permission_levels(tok)
	p in object.get(tokens.catalogue(tok), "sensitive", [])
})

# The token as it is today minus the sensitive permissions, and minus any admin-rated one (never
# carried into a replacement): never more than it has.
_without(tok, held) := {
	"grants": [g |
		some grant in tok.grants
		kept := [p | some p in grant.permissions; not p in held]
		count(kept) > 0
		g := {"resource": grant.resource, "permissions": kept}
	],
	"global_permissions": [p | some p in tok.global_permissions; not p in held],
	"scopes": [p | some p in tok.scopes; not p in held],
	"removed": sort(held),
}
