# METADATA
# title: token-auditor entry point
# description: |
#   The one rule the engine queries: every finding of every check under data.checks,
#   for the tokens, organizations, locations and secrets in this input.
package token_auditor.main

# METADATA
# description: All findings of all checks for this input.
# entrypoint: true
findings := [f |
	# By reference into each package's findings: `some check in data.checks` also builds every helper rule.
	some name

	# regal ignore:mixed-iteration
	some f in data.checks[name].findings
]
