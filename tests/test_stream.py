"""Streaming audit: the JSON Lines form of token-inventory/v1, `--format jsonl`, bounded reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, NOW, run_cli
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from auditor.inventory.loader import load_document
from auditor.inventory.validate import load_schema

SECRET = "ghp_Zq8mW3xR5tY7uI9oP1aS2dF4gH6jK8lQ0wE3"


def neutral_fixture() -> dict:
    return load_document(str(FIXTURES / "neutral" / "package-registries.yaml")).data


def write_jsonl(path: Path, document: dict, blank_after: int | None = None) -> Path:
    lines = [json.dumps({k: v for k, v in document.items() if k != "tokens"})]
    for index, token in enumerate(document["tokens"]):
        lines.append(json.dumps(token))
        if index == blank_after:
            lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def audit(*args: str):
    return run_cli("audit", *args, "--now", NOW, "--fail-on", "never")


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_inventory_streams_with_lines_and_matches_the_whole_file_audit(tmp_path):
    document = neutral_fixture()
    document["tokens"][1]["name"] = f"web-sdk release {SECRET}"  # a pasted token value
    # A blank line after the first token: line numbers still count it (tokens on lines 2, 4, 5, 6).
    inventory = write_jsonl(tmp_path / "inv.jsonl", document, blank_after=0)
    streamed, whole = tmp_path / "streamed.jsonl", tmp_path / "whole.jsonl"
    result = audit(str(inventory), "-f", "jsonl", "-o", str(streamed), "--chunk-size", "1")
    assert result.returncode == 0, result.stderr
    # -f csv beside it: not streamed (the whole report is built), the same lines in report order
    result = audit(str(inventory), "-f", "jsonl", "-f", "csv", "-o", str(whole), "-o", str(tmp_path / "r.csv"))
    assert result.returncode == 0, result.stderr
    assert sorted(streamed.read_text().splitlines()) == sorted(whole.read_text().splitlines())
    assert SECRET not in streamed.read_text()

    rows = lines_of(streamed)
    assert rows[-1]["type"] == "summary" and all(r["type"] != "summary" for r in rows[:-1])
    summary = rows[-1]["summary"]
    assert (summary["tokens"], summary["audited"], summary["skipped"]) == (4, 3, 1)
    assert summary["findings"] == sum(1 for r in rows if r["type"] == "finding")
    assert rows[-1]["secrets_redacted"] == 1
    skipped = [r for r in rows if r["type"] == "skipped"]
    assert skipped == [
        {
            "type": "skipped",
            "provider": "pypi",
            "id": "pypi-revoked-1d2e",
            "name": "old upload token",
            "reason": "inactive (revoked or disabled)",
            "source": {"file": str(inventory), "pointer": "/tokens/3"},
        }
    ]
    lines = {(r["subject"].get("key"), r["source"]["line"]) for r in rows if r["type"] == "finding"}
    assert lines == {
        ("npm:classic_publish_token:npm-7f3a", 2),
        ("pypi:api_token:pypi-project-0b77", 5),
        ("secret:28c9c02e6dd36f35", 4),
    }
    secret = [r for r in rows if r["type"] == "finding" and r["subject"].get("type") == "secret"]
    assert [(s["source"]["pointer"], s["source"]["line"]) for s in secret] == [("/tokens/1/name", 4)]


def test_jsonl_lines_follow_the_report_line_schema(tmp_path):
    inventory = write_jsonl(tmp_path / "inv.jsonl", neutral_fixture())
    out = tmp_path / "out.jsonl"
    assert audit(str(inventory), "-f", "jsonl", "-o", str(out)).returncode == 0
    registry = Registry().with_resources(
        (load_schema(name)["$id"], Resource.from_contents(load_schema(name))) for name in ("report.v1", "report-line")
    )
    validator = Draft202012Validator(load_schema("report-line"), registry=registry)
    rows = lines_of(out)
    for row in rows:
        assert not list(validator.iter_errors(row)), row
    broken = {**rows[0], "type": "summary"}
    assert list(validator.iter_errors(broken))


def test_a_bad_token_line_is_named_by_file_and_line_and_nothing_is_written(tmp_path):
    document = neutral_fixture()
    document["tokens"][2]["legacy"] = "yes"
    inventory = write_jsonl(tmp_path / "inv.jsonl", document)
    out = tmp_path / "out.jsonl"
    result = audit(str(inventory), "-f", "jsonl", "-o", str(out))
    assert result.returncode == 2
    assert f"{inventory}:4: /tokens/2/legacy: 'yes' is not of type 'boolean'" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    assert list(tmp_path.iterdir()) == [inventory]  # no temporary file left either

    text = inventory.read_text().splitlines()
    text[2] = text[2][:-1]  # line 3 loses its closing brace
    inventory.write_text("\n".join(text) + "\n")
    result = audit(str(inventory), "-f", "jsonl", "-o", str(out))
    assert result.returncode == 2 and f"{inventory}:3:" in result.stderr and "invalid JSON" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_streamed_inputs_are_not_refused_for_their_size(tmp_path, suffix):
    document = neutral_fixture()
    inventory = tmp_path / f"inv{suffix}"
    if suffix == ".jsonl":
        write_jsonl(inventory, document)
    else:
        inventory.write_text(json.dumps(document))
    out = tmp_path / "out.jsonl"
    result = audit(str(inventory), "-f", "jsonl", "-o", str(out), "--max-input-bytes", "100")
    assert result.returncode == 0, result.stderr
    assert lines_of(out)[-1]["summary"]["audited"] == 3
    result = audit(str(inventory), "-f", "csv", "-o", str(tmp_path / "r.csv"), "--max-input-bytes", "100")
    assert result.returncode == 2
    assert "above the 100-byte limit for a file read whole" in result.stderr
    assert (
        "`--format jsonl` and `--format json` stream token-inventory/v1 .json and .jsonl files and "
        "huggingface-inventory/v1 .json files without this limit" in result.stderr
    )


def test_duplicate_keys_and_duplicate_tokens_in_a_stream(tmp_path):
    document = neutral_fixture()
    inventory = write_jsonl(tmp_path / "inv.jsonl", document)
    text = inventory.read_text().splitlines()
    text[1] = text[1].replace('"id": "npm-7f3a",', '"id": "npm-7f3a", "id": "npm-7f3b",')
    inventory.write_text("\n".join(text) + "\n")
    result = audit(str(inventory), "-f", "jsonl", "-o", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2 and f'{inventory}:2: duplicate key "id"' in result.stderr

    document["tokens"].append(document["tokens"][0])  # the same token listed twice: audited once
    big = tmp_path / "dup.json"
    big.write_text(json.dumps(document))
    out = tmp_path / "dup.jsonl"
    assert audit(str(big), "-f", "jsonl", "-o", str(out)).returncode == 0
    rows = lines_of(out)
    assert rows[-1]["summary"]["audited"] == 3 and rows[-1]["summary"]["skipped"] == 2
    assert {
        "type": "skipped",
        "provider": "npm",
        "id": "npm-7f3a",
        "name": "legacy publish token",
        "reason": f"duplicate of the token at {big}#/tokens/0",
        "source": {"file": str(big), "pointer": "/tokens/4"},
    } in rows


def test_progress_of_a_streamed_run_counts_the_tokens_it_evaluates(tmp_path):
    # as the whole-file path: the fixture's revoked entry is skipped, not evaluated, so not counted
    inventory = write_jsonl(tmp_path / "inv.jsonl", neutral_fixture())
    result = audit(str(inventory), "-f", "jsonl", "-o", str(tmp_path / "o.jsonl"), "--progress", "--chunk-size", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[:2] == ["token-auditor: starting OPA", "token-auditor: evaluating 3 tokens"]
    assert lines[-1].startswith("token-auditor: evaluated 3/3 tokens (100%), ")
    assert lines[-1].endswith(", 5 findings so far")
