"""The policy input schema (policies/schemas/policy-input.json) is what `normalize` writes, and `opa check --schema`
holds every check to it: a misspelled input field is a type error naming the file and the field."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, NOW, OPA_BIN, ROOT, run, run_cli
from jsonschema import Draft202012Validator

from auditor.engine.client import chunk_documents
from auditor.inventory.validate import FORMAT_CHECKER, load_schema

POLICIES = ROOT / "policies"
SCHEMA = load_schema("policy-input")


def _errors(document: dict, schema: dict = SCHEMA) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(document)]


def _closed(schema: dict) -> dict:
    """The schema with every object closed: objects a token-inventory/v1 file may extend admit extra fields, but
    what the adapters themselves write must all be named in the contract."""
    closed = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if node.get("additionalProperties") is True:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(closed)
    return closed


def _normalize(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "input.json"
    result = run_cli("normalize", *args, "--now", NOW, "--no-config", "-o", str(out))
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def test_schema_is_listed_and_printed_by_the_schema_command():
    listed = run_cli("schema")
    assert "policy-input" in listed.stdout.split()
    printed = run_cli("schema", "policy-input")
    assert printed.returncode == 0
    assert json.loads(printed.stdout)["$id"] == "https://token-auditor.dev/schemas/policy-input.json"


def test_normalize_of_every_fixture_matches_the_schema_with_nothing_unnamed(tmp_path):
    document = _normalize(tmp_path, str(FIXTURES))
    # every part of the input is exercised, so the schema is checked against real data everywhere
    assert document["tokens"] and document["orgs"] and document["locations"] and document["secrets"]
    providers = {t["provider"] for t in document["tokens"]}
    assert {"huggingface", "github", "gitlab", "npm", "pypi"} <= providers
    assert any(o["settings"].get("pending_requests") for o in document["orgs"])
    assert any(o["settings"].get("installations") for o in document["orgs"])
    assert _errors(document) == []
    assert _errors(document, _closed(SCHEMA)) == []


@pytest.mark.parametrize(
    "paths",
    [
        ("tests/data/github-rest-examples",),
        ("tests/data/gitlab-api-examples", "--org", "gitlab.example.com"),
    ],
)
def test_normalize_of_bare_api_exports_matches_the_schema(tmp_path, paths):
    document = _normalize(tmp_path, str(ROOT / paths[0]), *paths[1:])
    assert document["tokens"]
    assert _errors(document, _closed(SCHEMA)) == []


def test_config_and_every_chunk_the_engine_sends_match_the_schema(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("thresholds:\n  stale_days: 30\ncatalogue:\n  npm:\n    permissions: {}\n")
    result = run_cli("normalize", str(FIXTURES), "--now", NOW, "--config", str(config))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["config"]["thresholds"] == {"stale_days": 30}
    assert _errors(document) == []

    from auditor.audit import AuditOptions, read_inventory

    inventory, _ = read_inventory([str(FIXTURES)], AuditOptions())
    chunks = chunk_documents(inventory, NOW, {"thresholds": {"stale_days": 30}}, chunk_size=3)
    assert len(chunks) > 2 and chunks[1]["locations"] == [] and chunks[1]["secrets"] == []
    assert [_errors(chunk) for chunk in chunks] == [[] for _ in chunks]


@pytest.fixture(scope="module")
def huggingface_input(tmp_path_factory):
    """`normalize` of the Hugging Face fixtures, once for the module: each test changes a copy."""
    document = _normalize(tmp_path_factory.mktemp("normalized"), str(FIXTURES / "huggingface"))
    assert _errors(document) == []  # each refusal below comes from its one change
    return document


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(tokenz=d.pop("tokens")), "/: 'tokens' is a required property"),
        (lambda d: d["tokens"][0].pop("key"), "/tokens/0: 'key' is a required property"),
        (lambda d: d["tokens"][0].update(expires_at="next week"), "/tokens/0/expires_at: 'next week' is not valid"),
        (lambda d: d["secrets"][0].update(value="hf_x"), "/secrets/0: Additional properties are not allowed"),
        (lambda d: d.update(config={"thresholds": {"stale_dayz": 3}}), "/config/thresholds: Additional properties"),
    ],
)
def test_schema_refuses_a_document_that_is_not_the_policy_input(huggingface_input, change, expected):
    document = copy.deepcopy(huggingface_input)
    change(document)
    assert any(error.startswith(expected) for error in _errors(document)), _errors(document)


def _opa_check(policies: Path, *extra: str):
    return run(
        [OPA_BIN, "check", "--strict", *extra, str(policies)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def shipped_policies_pass_opa_check_with_the_schema():
    """The copies below start as the shipped policies, which pass: checked once for the module."""
    checked = _opa_check(POLICIES, "--schema", str(POLICIES / "schemas"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("module", "correct", "typo", "message"),
    [
        ("checks/no_expiry/no_expiry.rego", "tok.expires_at == null", "tok.expires_att == null", "tok.expires_att"),
        (
            "checks/expired_token/expired_token.rego",
            "some tok in input.tokens",
            "some tok in input.tokenz",
            "input.tokenz",
        ),
        (
            "checks/token_in_variable/token_in_variable.rego",
            "in input.locations",
            "in input.location",
            "input.location",
        ),
        (
            "checks/org_allows_legacy_tokens/org_allows_legacy_tokens.rego",
            "org.token_policy",
            "org.token_polcy",
            "org.token_polcy",
        ),
        # the libraries that read the input declare the schema too
        ("lib/finding/finding.rego", "some org in input.orgs", "some org in input.org", "input.org"),
        ("lib/tokens/tokens.rego", "some tok in input.tokens", "some tok in input.tokenz", "input.tokenz"),
        ("lib/config/config.rego", "time.parse_rfc3339_ns(input.now)", "time.parse_rfc3339_ns(input.nwo)", "input.nwo"),
    ],
)
def test_opa_check_with_the_schema_fails_on_a_misspelled_input_field(
    shipped_policies_pass_opa_check_with_the_schema, tmp_path, module, correct, typo, message
):
    copy_dir = tmp_path / "policies"
    shutil.copytree(POLICIES, copy_dir)
    path = copy_dir / module
    text = path.read_text()
    assert correct in text
    path.write_text(text.replace(correct, typo, 1))

    checked = _opa_check(copy_dir, "--schema", str(copy_dir / "schemas"))
    output = checked.stdout + checked.stderr
    assert checked.returncode != 0
    assert f"{module}:" in output
    assert f"rego_type_error: undefined ref: {message}" in output
    # without the schema OPA cannot know the field does not exist
    assert _opa_check(copy_dir).returncode == 0
