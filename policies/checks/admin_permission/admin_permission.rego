# METADATA
# title: Organization administration permission
# description: |
#   A token that can administer an organization (settings, members, service accounts, network
#   security, resource groups, tokens, billing) lets whoever holds it take the organization over:
#   add themselves, remove owners, open network restrictions. Automation rarely needs it.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/security-tokens
#     description: Fine-grained token permissions
#   - ref: https://huggingface.co/docs/hub/enterprise-hub-tokens-management
#     description: Organization token management
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: admin-permission
#   severity: critical
#   nhi: [NHI5]
#   recommended_action: replace
package checks.admin_permission

import data.lib.finding
import data.lib.replacement
import data.lib.text
import data.lib.tokens

# METADATA
# description: One finding per token holding any permission or scope the catalogue rates admin.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s holds administration permission%s %s%s", [
		tok.provider, tokens.label(tok), tok.owner, text.plural(admin), concat(", ", admin), _on(tok, admin),
	]),
	"evidence": {"admin_permissions": admin, "on": _entities(tok, admin)},
	"recommendation": replacement.recommend_replacement(
		tok,
		concat(" ", [
			"Replace it with a fine-grained token without administration permissions;",
			"administer the organization as a person, not with a stored token",
		]),
	),
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	admin := _admin(tok)
	count(admin) > 0
}

_entities(tok, admin) := sort({sprintf("%s %s", [g.resource.type, g.resource.name]) |
	some g in tok.grants
	some p in g.permissions
	p in admin
})

_on(tok, admin) := sprintf(" on %s", [concat(", ", _entities(tok, admin))]) if count(_entities(tok, admin)) > 0

_on(tok, admin) := "" if count(_entities(tok, admin)) == 0

# Permissions the catalogue rates admin, plus those of grants that declare admin access
# (the neutral model may state access instead of naming provider permissions).
_admin(tok) := sort({p | some p in tokens.admin_permissions(tok)} | {p |
	some g in tok.grants
	object.get(g, "access", null) == "admin"
	some p in g.permissions
})
