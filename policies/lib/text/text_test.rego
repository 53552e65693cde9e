package lib.text_test

import data.lib.text

test_plural_ending_by_count if {
	text.plural(["repo.write"]) == ""
	text.plural(["repo.write", "repo.delete"]) == "s"
	text.plural({"a", "b", "c"}) == "s"
}

test_plural_of_nothing_is_undefined if {
	not text.plural([])
}
