# METADATA
# title: Settings
# description: |
#   Thresholds with their defaults from data.token_auditor.settings, overridden per
#   request by input.config (the CLI's --config file).
# schemas:
#   - input: schema["policy-input"]
package lib.config

# METADATA
# description: Effective thresholds for this evaluation.
thresholds := object.union(
	data.token_auditor.settings.thresholds,
	object.get(input, ["config", "thresholds"], {}),
)

# METADATA
# description: The least-privilege catalogue with input.config.catalogue merged over it.
catalogue := object.union(
	data.token_auditor.catalogue,
	object.get(input, ["config", "catalogue"], {}),
)

# METADATA
# description: Current time in ns since the epoch, from input.now.
now_ns := time.parse_rfc3339_ns(input.now)

# METADATA
# description: Whole days from the RFC 3339 time ts to input.now (negative in the future).
days_since(ts) := floor((now_ns - time.parse_rfc3339_ns(ts)) / 86400000000000)

# METADATA
# description: Whole days from RFC 3339 time a to b.
days_between(a, b) := floor((time.parse_rfc3339_ns(b) - time.parse_rfc3339_ns(a)) / 86400000000000)

# METADATA
# description: "More than the given number of days (to the nanosecond) lie between RFC 3339 times a and b."
longer_than(a, b, days) if time.parse_rfc3339_ns(b) - time.parse_rfc3339_ns(a) > days * 86400000000000

# METADATA
# description: More than the given number of days (to the nanosecond) have passed since RFC 3339 time ts.
older_than(ts, days) if now_ns - time.parse_rfc3339_ns(ts) > days * 86400000000000
