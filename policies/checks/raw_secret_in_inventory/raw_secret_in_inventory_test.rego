package checks.raw_secret_in_inventory_test

import data.checks.raw_secret_in_inventory
import data.lib.testing

_secret(pointer, token) := {
	"file": "inv.yaml", "pointer": pointer, "provider": "huggingface", "prefix": "hf_",
	"masked": "hf_…0000", "digest": "0123456789abcdef", "token": token,
}

test_each_place_of_a_value_is_its_own_finding if {
	secrets := [
		_secret("/tokens/0/inventory/note", "huggingface:user_access_token:t1"),
		_secret("/spaces/0/variables/K/value", null),
	]
	found := raw_secret_in_inventory.findings with input as object.union(testing.input_with([]), {"secrets": secrets})
	{f.instance | some f in found} == {"inv.yaml#/tokens/0/inventory/note", "inv.yaml#/spaces/0/variables/K/value"}
	every f in found {
		f.rule_id == "raw-secret-in-inventory"
		testing.rule_severity(f)
		f.subject.key == "secret:0123456789abcdef"
		f.subject.masked == "hf_…0000"
		f.recommendation.action == "purge"
	}
	some f in found
	f.subject.source.pointer == "/tokens/0/inventory/note"
	contains(f.message, "in the entry of token huggingface:user_access_token:t1")
}

test_no_secrets_no_finding if {
	count(raw_secret_in_inventory.findings) == 0 with input as testing.input_with([testing.token({})])
}
