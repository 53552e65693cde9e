# METADATA
# title: Organization accepts legacy tokens
# description: |
#   While an organization's token policy allows every token, any member's classic read/write
#   token reaches all of the organization's repositories. Requiring fine-grained tokens (and
#   approval) makes each token's access to the organization explicit and revocable.
# related_resources:
#   - ref: https://huggingface.co/docs/hub/enterprise-hub-tokens-management
#     description: Organization token management policies
# schemas:
#   - input: schema["policy-input"]
# custom:
#   id: org-allows-legacy-tokens
#   severity: medium
#   nhi: [NHI4]
#   recommended_action: set-policy
#   requires: [org_policies]
package checks.org_allows_legacy_tokens

import data.lib.config
import data.lib.finding
import data.lib.subjects

# METADATA
# description: One finding per organization whose token policy the provider's catalogue lists as admitting legacy tokens.
findings contains finding.new(rego.metadata.chain(), subjects.org(org), {
	"message": sprintf("%s organization %s has token policy %s: members' legacy tokens reach all its repositories", [
		org.provider, org.name, org.token_policy,
	]),
	"evidence": {"token_policy": org.token_policy},
	"recommendation": {
		"action": "set-policy",
		"summary": sprintf("Set %s's token policy to require fine-grained tokens (and approval where available)", [org.name]),
		"steps": array.concat(
			[sprintf("Open %s", [sprintf(catalogue.org_token_policy_url, [org.name])]) | catalogue.org_token_policy_url],
			[
				"Choose require_approval (or at least fine_grained_only)",
				"Review the members' legacy tokens first: they stop working for the organization",
			],
		),
	},
}) if {
	some org in input.orgs
	catalogue := object.get(config.catalogue.providers, org.provider, {})
	org.token_policy in object.get(catalogue, "legacy_allowing_policies", [])
}
