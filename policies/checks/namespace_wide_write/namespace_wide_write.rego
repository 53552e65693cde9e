# METADATA
# title: Write access to a whole namespace
# description: |
#   A fine-grained token that may write to every repository of a user or organization namespace
#   (repo.write on the namespace itself) is as dangerous as a legacy write token for that
#   namespace: one leak lets the holder push to all its models, datasets and Spaces.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/security-tokens
#     description: Fine-grained tokens can be scoped to single repositories
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: namespace-wide-write
#   severity: high
#   nhi: [NHI5]
#   recommended_action: replace
package checks.namespace_wide_write

import data.lib.finding
import data.lib.replacement
import data.lib.tokens

# METADATA
# description: One finding per fine-grained token with write on at least one namespace.
findings contains finding.new(rego.metadata.chain(), tokens.subject(tok), {
	"message": sprintf("%s token %s of %s can write to every repository of %s (%s)", [
		tok.provider, tokens.label(tok), tok.owner,
		concat(", ", [sprintf("%s %s", [g.resource.type, g.resource.name]) | some g in wide]),
		concat(", ", sort({p | some g in wide; some p in g.permissions; _writes(tok, p)})),
	]),
	"evidence": {"namespaces": [g.resource | some g in wide], "permissions": sort({p |
		some g in wide
		some p in g.permissions
		_writes(tok, p)
	})},
	"recommendation": replacement.recommend_replacement(
		tok,
		"Replace it with a fine-grained token that writes only to the repositories it really changes",
	),
}) if {
	some tok in tokens.live # expired tokens get only expired-token
	not tok.legacy
	wide := _wide_grants(tok)
	count(wide) > 0
}

_wide_grants(tok) := {g |
	some g in tok.grants
	g.resource.type in object.get(tokens.catalogue(tok), "namespace_types", [])
	_grants_write(tok, g)
}

_grants_write(tok, g) if {
	some p in g.permissions
	_writes(tok, p)
}

# The catalogue may name the repository-write permissions; else any write-level permission counts.
_writes(tok, p) if p in tokens.catalogue(tok).namespace_write_permissions

_writes(tok, p) if {
	not tokens.catalogue(tok).namespace_write_permissions
	tokens.access_of(tok.provider, p) == "write"
}
