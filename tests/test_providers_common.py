"""What the adapters share (auditor/providers/common.py), seen through the adapters that use it."""

from __future__ import annotations

import json

import pytest

from auditor.errors import InputError
from auditor.inventory.loader import load_document
from auditor.providers import adapter_for
from auditor.providers.common import paged_items


def normalize(path, **options):
    document = load_document(str(path))
    return adapter_for(document).normalize(document, {"org": None, "collected_at": None, **options})


def installation(number: int, suspended: bool = False) -> dict:
    return {
        "id": number,
        "app_slug": f"app-{number}",
        "repository_selection": "all",
        "permissions": {"contents": "read"},
        "suspended_at": "2026-01-01T00:00:00Z" if suspended else None,
    }


def test_paged_items_flattens_pages_and_unwraps_object_pages():
    pages = [[{"a": 1}], [[{"b": 2}], {"total_count": 1, "items": [{"c": 3}]}], "x"]
    assert paged_items(pages, "/answer", inner="items") == [
        ({"a": 1}, "/answer/0/0"),
        ({"b": 2}, "/answer/1/0/0"),
        ({"c": 3}, "/answer/1/1/items/0"),
        ("x", "/answer/2"),
    ]
    # without `inner`, an object page is one item; a lone object holds none
    assert paged_items([{"items": [1]}]) == [({"items": [1]}, "/0")]
    assert paged_items({"items": [1]}) == []


def test_slurped_installation_pages_keep_each_items_pointer(tmp_path):
    path = tmp_path / "orgs" / "octo" / "installations.json"
    path.parent.mkdir(parents=True)
    pages = [{"total_count": 2, "installations": [installation(1)]}, {"total_count": 2, "installations": []}]
    pages[1]["installations"].append(installation(2, suspended=True))
    path.write_text(json.dumps(pages))
    inventory = normalize(path)
    [kept] = inventory.orgs[0]["settings"]["installations"]
    assert kept["source"] == {"file": str(path), "pointer": "/0/installations/0"}
    assert [(s.name, s.pointer) for s in inventory.skipped] == [("app-2", "/1/installations/0")]


def test_gitlab_holder_paths_are_escaped_in_pointers(tmp_path):
    token = {"id": 7, "name": "ci", "revoked": False, "scopes": ["read_api"], "user_id": 3, "access_level": 30}
    path = tmp_path / "gitlab.json"
    path.write_text(
        json.dumps(
            {
                "format": "gitlab-inventory/v1",
                "instance": "https://gitlab.example.com",
                "collected_at": "2026-11-20T00:00:00Z",
                "group_access_tokens": {"acme/ml~x": [token]},
            }
        )
    )
    inventory = normalize(path)
    [normalized] = inventory.tokens
    assert normalized["source"]["pointer"] == "/group_access_tokens/acme~1ml~0x/0"
    assert normalized["grants"][0]["resource"] == {"type": "group", "name": "acme/ml~x"}
    [org] = inventory.orgs
    assert org["settings"] == {"collected_at": "2026-11-20T00:00:00Z"}
    assert org["evidence"] == {"members": "missing"}


def test_a_bad_collection_time_in_a_wrapper_names_its_place(tmp_path):
    path = tmp_path / "acme.json"
    path.write_text(
        '{\n  "format": "github-inventory/v1",\n  "org": "acme",\n  "collected_at": "2026-02-30T00:00:00Z"\n}\n'
    )
    document = load_document(str(path))
    with pytest.raises(InputError) as caught:
        adapter_for(document).normalize(document, {"collected_at": "2026-11-20T00:00:00Z"})
    assert str(caught.value) == f"{path}:4: /collected_at: '2026-02-30T00:00:00Z' is not an ISO 8601 date-time"


def test_collected_at_option_is_canonical_for_bare_answers_and_refused_when_not_a_time(tmp_path):
    path = tmp_path / "orgs" / "acme" / "members.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps([{"login": "a", "id": 1}]))
    inventory = normalize(path, collected_at="2026-11-20T01:00:00+01:00")
    assert inventory.orgs[0]["settings"] == {"collected_at": "2026-11-20T00:00:00Z"}
    assert inventory.orgs[0]["source"] == {"file": str(path), "pointer": ""}
    with pytest.raises(InputError, match=r"^--collected-at 'yesterday' is not an ISO 8601 date-time$"):
        normalize(path, collected_at="yesterday")


def test_storage_and_usage_facts_are_normalized_alike_across_providers(tmp_path):
    token = {
        "id": 7,
        "name": "ci",
        "revoked": False,
        "scopes": ["read_api"],
        "user_id": 3,
        "stored_in": [{"kind": "ci_variable", "location": "acme/app", "public": False}],
        "observed_usage": [{"resource": {"type": "project", "name": "acme/app"}, "actions": ["push", "read", "push"]}],
    }
    path = tmp_path / "personal_access_tokens.json"
    path.write_text(json.dumps([token]))
    [normalized] = normalize(path, org="acme").tokens
    assert normalized["stored_in"] == [{"kind": "ci_variable", "location": "acme/app", "key": None, "public": False}]
    assert normalized["observed_usage"] == [
        {"resource": {"type": "project", "name": "acme/app"}, "actions": ["push", "read"]}
    ]
    hf = tmp_path / "hf.yaml"
    hf.write_text(
        """\
format: huggingface-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
spaces:
  - info: {id: acme-ml/demo, private: true}
tokens:
  - inventory:
      id: t1
      owner: jdoe
      stored_in:
        - {kind: hf_space_secret, location: acme-ml/demo, key: HF_TOKEN}
        - {kind: hf_space_secret, location: acme-ml/elsewhere, key: HF_TOKEN}
      observed_usage:
        - {entity: {type: model, name: acme-ml/bert}, actions: [write, read]}
"""
    )
    [hf_token] = normalize(hf).tokens
    assert hf_token["stored_in"] == [
        {"kind": "hf_space_secret", "location": "acme-ml/demo", "key": "HF_TOKEN", "public": False},
        {"kind": "hf_space_secret", "location": "acme-ml/elsewhere", "key": "HF_TOKEN", "public": None},
    ]
    assert hf_token["observed_usage"] == [
        {"resource": {"type": "model", "name": "acme-ml/bert"}, "actions": ["read", "write"]}
    ]
