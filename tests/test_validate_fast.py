"""The fastjsonschema fast path accepts exactly what jsonschema accepts (it only skips the slow walk)."""

from __future__ import annotations

import copy
import random
import sys

import pytest
from conftest import ROOT

from auditor.inventory.validate import fast_validator, is_valid, validator

sys.path.insert(0, str(ROOT / "scripts"))

import generate_inventory  # noqa: E402

BAD_VALUES = [
    None,
    True,
    0,
    1.5,
    "",
    "x",
    "2026-02-30T00:00:00Z",
    "2026-11-20 09:00",
    "not-a-date",
    [],
    {},
    ["a"],
    {"a": 1},
    "hf_",
    "PENDING",
    "read",
    "org_api_token",
    "hf_space_secret",
]


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _mutate(document, rng: random.Random):
    doc = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        path = rng.choice(paths)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.3 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.4 and isinstance(parent, dict):
            parent["unexpected_field"] = rng.choice(BAD_VALUES)
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(BAD_VALUES))
    return doc


@pytest.mark.parametrize(
    "schema, make",
    [
        ("huggingface-inventory.v1", lambda: generate_inventory.huggingface_inventory(6, seed=5)),
        ("token-inventory.v1", lambda: generate_inventory.neutral_inventory(6, seed=5)),
    ],
)
def test_fast_path_agrees_with_jsonschema_on_mutated_documents(schema, make):
    assert fast_validator(schema) is not None, "the inventory schemas take the fast path"
    base = make()
    assert is_valid(base, schema) is True
    rng = random.Random(2026)
    disagreements = 0
    rejected = 0
    for _ in range(600):
        doc = _mutate(base, rng)
        slow_ok = not any(True for _ in validator(schema).iter_errors(doc))
        fast_ok = is_valid(doc, schema) is True
        assert not (fast_ok and not slow_ok), f"fast path accepted a document jsonschema rejects: {doc}"
        disagreements += fast_ok != slow_ok
        rejected += not slow_ok
    assert rejected > 200, "the mutations must produce many invalid documents"
    assert disagreements == 0


def test_ref_with_siblings_keeps_2020_12_meaning():
    # whoami may be just the auth object, which then must hold accessToken (a $ref with a sibling `required`).
    doc = generate_inventory.huggingface_inventory(3, seed=1)
    doc["tokens"][0]["whoami"] = {"type": "access_token"}
    assert list(validator("huggingface-inventory.v1").iter_errors(doc))
    assert is_valid(doc, "huggingface-inventory.v1") is None
