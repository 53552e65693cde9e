# METADATA
# title: Finding builder
# description: |
#   The one helper every check uses to build a finding: rule id, title, severity, NHI ids and
#   default action come from the check's package annotations via rego.metadata.chain().
package lib.finding

_severities := {"critical", "high", "medium", "low", "info"}

# METADATA
# description: |
#   A finding for the check whose metadata chain is given. details holds message and optionally
#   severity (overrides the default), evidence, recommendation (merged over the default action)
#   and instance (tells apart several findings of one rule on one subject).
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
}

_package_annotations(chain) := entry.annotations if {
	some entry in chain
	entry.annotations.scope == "package"
}

_severity(meta, details) := details.severity if {
	details.severity in _severities
} else := meta.custom.severity
