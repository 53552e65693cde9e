package checks.no_expiry_test

import data.checks.no_expiry
import data.lib.testing

_gitlab := testing.token({
	"key": "gitlab:personal_access_token:1", "id": "1", "provider": "gitlab", "kind": "personal_access_token",
	"scopes": ["write_repository"], "expiry_supported": true, "expires_at": null,
	"grants": [{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["write_repository"]}],
})

test_write_token_without_expiry_is_high if {
	some f in no_expiry.findings with input as testing.input_with([_gitlab])
	f.rule_id == "no-expiry"
	f.severity == "high"
	f.recommendation.replacement.expires_in_days == 90
}

test_read_token_without_expiry_is_medium if {
	read := object.union(_gitlab, {"scopes": ["read_api"], "grants": []})
	some f in no_expiry.findings with input as testing.input_with([read])
	f.severity == "medium"
}

test_expiring_token_does_not_fire if {
	dated := object.union(_gitlab, {"expires_at": "2026-12-20T00:00:00Z"})
	count(no_expiry.findings) == 0 with input as testing.input_with([dated])
}

test_kind_that_cannot_expire_is_not_judged if {
	count(no_expiry.findings) == 0 with input as testing.input_with([testing.token({})])
}

test_pypi_tokens_cannot_expire_so_no_finding if {
	tok := testing.token({
		"key": "pypi:api_token:p1", "provider": "pypi", "kind": "api_token", "expiry_supported": true,
		"grants": [{"resource": {"type": "project", "name": "acme-lib"}, "permissions": ["upload"], "access": "write"}],
	})
	count(no_expiry.findings) == 0 with input as testing.input_with([tok])
	npm := object.union(tok, {"key": "npm:granular_access_token:n1", "provider": "npm", "kind": "granular_access_token"})
	count(no_expiry.findings) == 1 with input as testing.input_with([npm])
}
