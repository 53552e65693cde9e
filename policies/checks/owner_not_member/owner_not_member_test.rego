package checks.owner_not_member_test

import data.checks.owner_not_member
import data.lib.testing

_org(members) := {"provider": "huggingface", "name": "acme", "token_policy": null, "members": members, "settings": {}}

_with_org(toks, org) := object.union(testing.input_with(toks), {"orgs": [org]})

test_approved_token_of_non_member_is_high if {
	tok := testing.token({"owner": "intern", "grants": [], "orgs": ["acme"], "approval": {"acme": "APPROVED"}})
	some f in owner_not_member.findings with input as _with_org([tok], _org(["jdoe"]))
	f.rule_id == "owner-not-member"
	testing.rule_severity(f)
	f.instance == "acme"
	contains(f.message, "intern, who is not a member of acme, yet the token is approved for it (APPROVED)")
	f.recommendation.action == "revoke"
}

test_scoped_token_without_approval_data_fires if {
	tok := testing.token({"owner": "intern"})
	some f in owner_not_member.findings with input as _with_org([tok], _org(["jdoe"]))
	contains(f.message, "is scoped to it")
}

test_denied_but_scoped_still_fires if {
	tok := testing.token({"owner": "intern", "approval": {"acme": "DENIED"}})
	some f in owner_not_member.findings with input as _with_org([tok], _org(["jdoe"]))
	contains(f.message, "scoped to it (approval DENIED)")
}

test_denied_and_not_scoped_does_not_fire if {
	tok := testing.token({
		"owner": "intern", "orgs": ["acme"], "approval": {"acme": "DENIED"},
		"grants": [{"resource": {"type": "model", "name": "intern/bert"}, "permissions": ["repo.content.read"]}],
	})
	count(owner_not_member.findings) == 0 with input as _with_org([tok], _org(["jdoe"]))
}

test_member_owner_does_not_fire if {
	count(owner_not_member.findings) == 0 with input as _with_org([testing.token({})], _org(["jdoe"]))
}

test_members_not_exported_does_not_fire if {
	tok := testing.token({"owner": "intern"})
	count(owner_not_member.findings) == 0 with input as _with_org([tok], _org(null))
}

test_org_owned_token_and_other_orgs_do_not_fire if {
	org_token := testing.token({"id": "o", "owner": "acme", "kind": "org_api_token"})
	elsewhere := testing.token({"id": "e", "owner": "intern", "orgs": ["other"], "grants": []})
	count(owner_not_member.findings) == 0 with input as _with_org([org_token, elsewhere], _org(["jdoe"]))
}

test_expired_token_is_left_to_expired_token if {
	tok := testing.token({"owner": "intern", "expires_at": "2026-01-01T00:00:00Z"})
	count(owner_not_member.findings) == 0 with input as _with_org([tok], _org(["jdoe"]))
}

test_service_account_token_is_not_owner_not_member if {
	tok := testing.token({
		"kind": "service_account_token", "owner": "acme-ci-sa",
		"grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": ["repo.content.read"]}],
	})
	count(owner_not_member.findings) == 0 with input as _with_org([tok], _org(["jdoe"]))
}
