package checks.org_allows_legacy_tokens_test

import data.checks.org_allows_legacy_tokens
import data.lib.testing

_org(provider, policy) := {
	"provider": provider, "name": "acme", "token_policy": policy, "members": null, "settings": {},
	"source": {"file": "org.yaml", "pointer": "/org_policies/0"},
}

test_allow_all_is_an_org_finding if {
	inp := object.union(testing.input_with([]), {"orgs": [_org("huggingface", "allow_all")]})
	some f in org_allows_legacy_tokens.findings with input as inp
	f.rule_id == "org-allows-legacy-tokens"
	testing.rule_severity(f)
	f.subject.type == "org"
	f.subject.key == "org:huggingface:acme"
	f.subject.source.pointer == "/org_policies/0"
	f.recommendation.action == "set-policy"
	"Open https://huggingface.co/organizations/acme/settings/tokens-management" in f.recommendation.steps
}

test_npm_has_no_org_token_policy if {
	inp := object.union(testing.input_with([]), {"orgs": [_org("npm", "allow_all")]})
	count(org_allows_legacy_tokens.findings) == 0 with input as inp
}

test_github_policy_values if {
	orgs := [
	_org("github", p) |
		some p in ["allow_all", "fine_grained_without_approval", "fine_grained_only", "require_approval", "no_personal_tokens"]
	]
	inp := object.union(testing.input_with([]), {"orgs": orgs})
	{f.evidence.token_policy | some f in org_allows_legacy_tokens.findings with input as inp} == {"allow_all"}
}

test_provider_without_catalogue_url_fires_without_url if {
	catalogue := object.union(data.token_auditor.catalogue.providers.huggingface, {"org_token_policy_url": null})
	inp := object.union(testing.input_with([]), {
		"orgs": [_org("huggingface", "allow_all")],
		"config": {"catalogue": {"providers": object.union(data.token_auditor.catalogue.providers, {"huggingface": catalogue})}},
	})
	some f in org_allows_legacy_tokens.findings with input as inp
	count(f.recommendation.steps) == 2
}

test_strict_or_unknown_policies_do_not_fire if {
	orgs := [_org("huggingface", "require_approval"), _org("huggingface", "fine_grained_only"), _org("huggingface", null)]
	count(org_allows_legacy_tokens.findings) == 0 with input as object.union(testing.input_with([]), {"orgs": orgs})
}
