package lib.tokens_test

import data.lib.testing
import data.lib.tokens

_input := testing.input_with([])

test_unknown_permission_levels_by_name if {
	tokens.access_of("nowhere", "write_xyz") == "write" with input as _input
	tokens.access_of("nowhere", "packages:write") == "write" with input as _input
	tokens.access_of("nowhere", "delete.repo") == "write" with input as _input
	tokens.access_of("nowhere", "site_admin") == "admin" with input as _input
	tokens.access_of("nowhere", "read_user") == "read" with input as _input
	tokens.access_of("nowhere", "rewriter") == "read" with input as _input
}

test_catalogue_wins_over_the_name if {
	# Projects' admin level administers Projects, not the organization
	tokens.access_of("github", "organization_projects:admin") == "write" with input as _input
	tokens.access_of("github", "repository_projects:admin") == "write" with input as _input

	# Inference Providers calls spend money: never rated read
	tokens.access_of("huggingface", "inference.serverless.write") == "write" with input as _input
	tokens.access_of("huggingface", "org.members.write") == "admin" with input as _input
}
