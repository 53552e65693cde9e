# METADATA
# title: Finding builder
# description: |
#   The one helper every check uses to build a finding: rule id, title, severity, NHI ids and
#   default action come from the check's package annotations via rego.metadata.chain().
#   It is also the evidence gate: a check whose custom.requires names evidence that an
#   organization's inventory lacks (input.orgs[_].evidence) builds no finding there.
package lib.finding

_severities := {"critical", "high", "medium", "low", "info"}

# METADATA
# description: |
#   A finding for the check whose metadata chain is given. details holds message and optionally
#   severity (overrides the default), evidence, recommendation (merged over the default action)
#   and instance (tells apart several findings of one rule on one subject). Undefined where the
#   check requires evidence (custom.requires) that an organization the finding concerns lacks.
new(chain, subject, details) := {
	"rule_id": meta.custom.id,
	"title": meta.title,
	"severity": _severity(meta, details),
	"nhi": object.get(meta.custom, "nhi", []),
	"subject": subject,
	"instance": object.get(details, "instance", ""),
	"message": details.message,
	"evidence": object.get(details, "evidence", {}),
	"recommendation": object.union(
		{"action": meta.custom.recommended_action, "steps": [], "replacement": null},
		object.get(details, "recommendation", {}),
	),
	"source": object.get(subject, "source", null),
} if {
	meta := _package_annotations(chain)
	not _gated(meta, subject, details)
}

# METADATA
# description: |
#   The evidence kinds of requires that are not present for organization org: [] when the
#   check can run there. A kind the provider does not have (absent from evidence) never gates.
missing_evidence(requires, org) := [kind |
	some kind in requires
	object.get(object.get(org, "evidence", {}), kind, "present") != "present"
]

_gated(meta, subject, details) if {
	requires := object.get(meta.custom, "requires", [])
	count(requires) > 0
	some name in _scope(subject, details)
	org := _orgs[concat(":", [subject.provider, name])]
	count(missing_evidence(requires, org)) > 0
}

# The organizations a finding is about: the one its evidence names (one finding per token and org),
# the org itself, or those of the token, App installation or pending request it is about.
_scope(subject, details) := {org} if {
	org := object.get(details, ["evidence", "org"], null)
	is_string(org)
} else := {subject.name} if {
	subject.type == "org"
} else := {name | some name in _token_orgs[subject.key]} if {
	subject.type == "token"
	_token_orgs[subject.key]
} else := {name | some name in _settings_orgs[subject.key]} if {
	subject.type == "token"
} else := set()

# Lookup tables built once per evaluation: complete rules are cached, while a partial rule
# looked up by key rescans the input for every finding (5x slower at 4,000 tokens per chunk).
# regal ignore:prefer-set-or-object-rule
_orgs := {concat(":", [org.provider, org.name]): org | some org in input.orgs}

# regal ignore:prefer-set-or-object-rule
_token_orgs := {tok.key: object.get(tok, "orgs", []) | some tok in input.tokens}

# regal ignore:prefer-set-or-object-rule
_settings_orgs := {item.key: object.get(item, "orgs", []) |
	some org in input.orgs
	some list in ["installations", "pending_requests"]
	some item in object.get(org, ["settings", list], [])
}

_package_annotations(chain) := entry.annotations if {
	some entry in chain
	entry.annotations.scope == "package"
}

_severity(meta, details) := details.severity if {
	details.severity in _severities
} else := meta.custom.severity
