"""JSON Pointers (RFC 6901) as the auditor builds and reads them: literal cases from the RFC's section 5."""

from __future__ import annotations

import pytest

from auditor import json_pointer
from auditor.inventory.loader import json_line_map, load_document
from auditor.providers import adapter_for

# RFC 6901 section 5: the keys of {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
# "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8} and the pointers the RFC gives for them.
RFC_EXAMPLES = [
    ([], ""),
    (["foo"], "/foo"),
    (["foo", 0], "/foo/0"),
    ([""], "/"),
    (["a/b"], "/a~1b"),
    (["c%d"], "/c%d"),
    (["e^f"], "/e^f"),
    (["g|h"], "/g|h"),
    (["i\\j"], "/i\\j"),
    (['k"l'], '/k"l'),
    ([" "], "/ "),
    (["m~n"], "/m~0n"),
]


@pytest.mark.parametrize(("path", "pointer"), RFC_EXAMPLES)
def test_rfc_6901_examples_build_and_split(path, pointer):
    assert json_pointer.pointer_of(path) == pointer
    assert json_pointer.split(pointer) == [str(step) for step in path]


def test_tilde_is_escaped_first_and_unescaped_last():
    # RFC 6901 section 4: `~01` is the key `~1`, never `/`
    assert json_pointer.escape("~1") == "~01"
    assert json_pointer.unescape("~01") == "~1"
    assert json_pointer.escape("/~") == "~1~0"
    assert json_pointer.split("/~01/~10") == ["~1", "/0"]


def test_empty_keys_and_join():
    assert json_pointer.pointer_of(["", ""]) == "//"
    assert json_pointer.split("//") == ["", ""]
    assert json_pointer.join("/spaces/0/variables", "a/b", 3) == "/spaces/0/variables/a~1b/3"
    assert json_pointer.join("/tokens") == "/tokens"


def test_parent_steps_over_escaped_keys():
    assert json_pointer.parent("/a~1b/c") == "/a~1b"
    assert json_pointer.parent("/a~1b") == ""
    assert json_pointer.parent("") == ""


def test_a_pointer_must_start_with_a_slash():
    with pytest.raises(ValueError, match="'foo' is not a JSON pointer"):
        json_pointer.split("foo")


def test_json_line_map_escapes_keys():
    text = '{\n  "a/b": {\n    "m~n": 1,\n    "": ["x"]\n  }\n}\n'
    assert json_line_map(text) == {"": 1, "/a~1b": 2, "/a~1b/m~0n": 3, "/a~1b/": 4, "/a~1b//0": 4}


SPACE_INVENTORY = """\
format: huggingface-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
tokens: []
spaces:
  - info: {id: acme-ml/demo, private: false}
    variables:
      "HF~TOKEN/RO": {value: hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567, description: null}
      PLAIN: {value: acme-ml/docs, description: null}
"""


def test_a_secret_under_a_key_with_tilde_and_slash_is_placed_and_flagged(tmp_path):
    path = tmp_path / "hf.yaml"
    path.write_text(SPACE_INVENTORY)
    document = load_document(str(path))
    assert [hit.pointer for hit in document.secrets] == ["/spaces/0/variables/HF~0TOKEN~1RO/value"]
    assert document.where(document.secrets[0].pointer) == f"{path}:7: /spaces/0/variables/HF~0TOKEN~1RO/value"
    inventory = adapter_for(document).normalize(document, {})
    assert [(loc["name"], loc["token_like_variables"]) for loc in inventory.locations] == [
        ("acme-ml/demo", ["HF~TOKEN/RO"])
    ]
