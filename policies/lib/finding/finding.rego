# METADATA
# title: Finding builder
# description: |
#   The one helper every check uses to build a finding, in its compact form: the details the
#   check decides per finding, its rule id and its subject. What every finding of a check shares
#   (title, default severity, NHI ids, default action) is the check's package METADATA, which the
#   engine joins back by rule id (auditor/findings/finding.py, expand_finding): building and
#   encoding it again for each finding was a third of OPA's cost per finding.
#   It is also the evidence gate: a check whose custom.requires names evidence that an
#   organization's inventory lacks (input.orgs[_].evidence), or that its subject token lacks
#   (input.tokens[_].evidence, e.g. token_usage), builds no finding there.
# schemas:
#   - input: schema["policy-input"]
package lib.finding

# METADATA
# description: |
#   A compact finding for the check whose metadata chain is given: details with rule_id and
#   subject added. details holds message and optionally severity (overrides the rule's default),
#   evidence, recommendation (merged over the rule's default action) and instance (tells apart
#   several findings of one rule on one subject). Undefined where the check requires evidence
#   (custom.requires) that an organization the finding concerns lacks.
new(chain, subject, details) := object.union(details, {"rule_id": template.id, "subject": subject}) if {
	template := _template(chain)
	not _gated(template.requires, subject, details)
}

# Read once per check (a function's result is cached by its argument).
_template(chain) := {"id": meta.custom.id, "requires": object.get(meta.custom, "requires", [])} if {
	meta := _package_annotations(chain)
}

_gated(requires, subject, details) if {
	some kind in requires
	some [provider, name, lacking] in _lacking
	lacking == kind
	provider == subject.provider
	_concerns(subject, details, name)
}

_gated(requires, subject, _) if {
	some kind in requires
	[subject.key, kind] in _token_lacking
}

# Whether a finding is about organization name: the one its evidence names (one finding per token
# and org), the org itself, or an org of the token, App installation or pending request it is about.
_concerns(_, details, name) if object.get(details, ["evidence", "org"], null) == name

_concerns(subject, details, name) if {
	not is_string(object.get(details, ["evidence", "org"], null))
	subject.type == "org"
	subject.name == name
}

_concerns(subject, details, name) if {
	not is_string(object.get(details, ["evidence", "org"], null))
	subject.type == "token"
	[subject.key, name] in _subject_orgs
}

# Sets built once per evaluation and probed by value (a hash lookup): complete rules are cached,
# while a partial rule probed by key rescans the input for every finding (5x slower at 4,000
# tokens per chunk). Sets, unlike objects, cannot conflict on duplicate input entries.
# regal ignore:prefer-set-or-object-rule
_lacking := {[org.provider, org.name, kind] |
	some org in input.orgs
	some kind, status in object.get(org, "evidence", {})
	status != "present"
}

# regal ignore:prefer-set-or-object-rule
_token_lacking := {[tok.key, kind] |
	some tok in input.tokens
	some kind, status in object.get(tok, "evidence", {})
	status != "present"
}

# regal ignore:prefer-set-or-object-rule
_subject_orgs := {[tok.key, name] |
	some tok in input.tokens
	some name in object.get(tok, "orgs", [])
} | {[item.key, name] |
	some org in input.orgs
	some list in ["installations", "pending_requests"]
	some item in object.get(org, ["settings", list], [])
	some name in object.get(item, "orgs", [])
}

_package_annotations(chain) := entry.annotations if {
	some entry in chain
	entry.annotations.scope == "package"
}
