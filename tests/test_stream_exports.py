"""Streamed reading of wrapper JSON inventories: huggingface-inventory/v1 exports, token-inventory/v1 `.json`.

Every streamed run here passes `--max-input-bytes 100`: the whole-file path refuses any of these files at that
limit, so a run that succeeds was streamed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, NOW, ROOT, run_cli

sys.path.insert(0, str(ROOT / "scripts"))
import generate_inventory  # noqa: E402

SECRET = "hf_Zq8mW3xR5tY7uI9oP1aS2dF4gH6jK8lQ0wE3rT"


def audit(*args: str):
    return run_cli("audit", *args, "--now", NOW, "--fail-on", "never")


def streamed(inventory: Path, out: Path, *extra: str):
    return audit(str(inventory), "-f", "jsonl", "-o", str(out), "--max-input-bytes", "100", *extra)


def whole(inventory: Path, out: Path, fmt: str = "jsonl"):
    """The whole-file path: `-f csv` beside it is never streamed."""
    return audit(str(inventory), "-f", fmt, "-f", "csv", "-o", str(out), "-o", str(out.with_suffix(".csv")))


def same_lines(inventory: Path, tmp_path: Path, *extra: str) -> list[dict]:
    """Stream and read whole; the sorted lines must be equal byte for byte. Returns the streamed rows."""
    one, other = tmp_path / f"{inventory.stem}.s.jsonl", tmp_path / f"{inventory.stem}.w.jsonl"
    result = streamed(inventory, one, *extra)
    assert result.returncode == 0, result.stderr
    result = whole(inventory, other)
    assert result.returncode == 0, result.stderr
    assert sorted(one.read_text().splitlines()) == sorted(other.read_text().splitlines())
    return [json.loads(line) for line in one.read_text().splitlines()]


def same_json_report(inventory: Path, tmp_path: Path, chunk_size: str) -> dict:
    """Stream `-f json` and read whole; the reports must be equal byte for byte. Returns the streamed report."""
    one, other = tmp_path / "s.json", tmp_path / "w.json"
    result = audit(str(inventory), "-f", "json", "-o", str(one), "--max-input-bytes", "100", "--chunk-size", chunk_size)
    assert result.returncode == 0, result.stderr
    result = whole(inventory, other, "json")
    assert result.returncode == 0, result.stderr
    assert one.read_bytes() == other.read_bytes()
    return json.loads(one.read_text())


def fixture(provider: str, name: str) -> dict:
    """A fixture as written, pasted token values and all (the loader would redact them)."""
    return yaml.safe_load((FIXTURES / provider / f"{name}.yaml").read_text())


def hf_fixture(name: str) -> dict:
    return fixture("huggingface", name)


def write(path: Path, document: dict, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(document, indent=indent))
    return path


def errors_of(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_huggingface_fixtures_stream_as_the_whole_file_audit(tmp_path):
    counts = {}
    for name in ("org-export", "user-export", "service-account"):
        document = hf_fixture(name)
        if name == "org-export":
            document["tokens"][1]["inventory"]["revoked"] = True  # skipped, with its reason
            document["tokens"].append(document["tokens"][0])  # listed twice: audited once
            # an org only a token names (neither the account's nor exported): an entry made after the tokens
            document["tokens"][2]["inventory"]["org_approval_status"] = {"partner-org": "PENDING"}
        rows = same_lines(write(tmp_path / f"{name}.json", document), tmp_path, "--chunk-size", "1")
        summary = rows[-1]["summary"]
        counts[name] = (summary["tokens"], summary["audited"], summary["skipped"], summary["findings"])
        counts[name] += (rows[-1]["secrets_redacted"],)
        if name == "org-export":
            skipped = sorted((r["source"]["pointer"], r["reason"]) for r in rows if r["type"] == "skipped")
            inventory = tmp_path / "org-export.json"
            assert skipped == [
                ("/tokens/1", "revoked"),
                ("/tokens/5", f"duplicate of the token at {inventory}#/tokens/0"),
            ]
            assert rows[-1]["inputs"][0]["format"] == "huggingface-inventory/v1"
            assert rows[-1]["inputs"][0]["tokens"] == 6
            assert [(e["org"], e["evidence"]) for e in rows[-1]["evidence"]] == [
                ("acme-ml", {"members": "present", "org_policies": "present", "spaces": "present"}),
                ("acme-research", {"members": "present", "org_policies": "present", "spaces": "present"}),
                ("partner-org", {"members": "missing", "org_policies": "missing", "spaces": "present"}),
            ]
    assert counts == {
        "org-export": (6, 4, 2, 6, 1),
        "user-export": (9, 9, 0, 14, 1),
        "service-account": (1, 1, 0, 0, 0),
    }


def test_a_generated_export_streams_as_the_whole_file_audit(tmp_path):
    inventory = generate_inventory.write_json(
        generate_inventory.huggingface_inventory(300, seed=1), tmp_path / "g.json"
    )
    rows = same_lines(inventory, tmp_path, "--chunk-size", "7")
    summary = rows[-1]["summary"]
    assert (summary["tokens"], summary["audited"], summary["skipped"], summary["findings"]) == (300, 296, 4, 654)
    assert rows[-1]["secrets_redacted"] == 2
    # the generator's Space 3 holds a token in a variable: found in the context, before the tokens were read
    variables = [
        (r["subject"]["name"], r["instance"])
        for r in rows
        if r["type"] == "finding" and r["rule_id"] == "token-in-variable" and r["subject"]["type"] == "location"
    ]
    assert variables == [("org-00000/bert-demo-3", "HF_TOKEN")]


def test_a_streamed_json_report_of_an_export_is_the_whole_file_report(tmp_path):
    inventory = generate_inventory.write_json(
        generate_inventory.huggingface_inventory(120, seed=3), tmp_path / "g.json"
    )
    summary = same_json_report(inventory, tmp_path, "9")["summary"]
    assert (summary["tokens"], summary["audited"], summary["skipped"]) == (120, 120, 0)


def test_context_after_the_tokens_and_pasted_values_in_it(tmp_path):
    document = hf_fixture("org-export")
    tokens = document.pop("tokens")
    document["tokens"] = tokens  # every context member before the tokens ...
    moved = {k: document.pop(k) for k in ("spaces", "members", "format")}
    document.update(moved)  # ... and some after them
    document["notes"] = f"pasted by mistake: {SECRET}"  # an extra top-level member
    document["spaces"][0]["variables"]["HF_TOKEN"] = {"value": SECRET}
    inventory = write(tmp_path / "late.json", document)
    rows = same_lines(inventory, tmp_path)
    assert SECRET not in (tmp_path / "late.s.jsonl").read_text()
    secrets = sorted(
        r["source"]["pointer"] for r in rows if r["type"] == "finding" and r["rule_id"] == "raw-secret-in-inventory"
    )
    assert secrets == ["/notes", "/spaces/0/variables/HF_TOKEN/value", "/tokens/4/inventory/note"]
    assert rows[-1]["secrets_redacted"] == 3
    assert any(r.get("rule_id") == "token-in-variable" and r["instance"] == "HF_TOKEN" for r in rows)


def test_bad_entries_are_named_by_file_line_and_pointer_and_nothing_is_written(tmp_path):
    document = hf_fixture("org-export")
    document["tokens"][2]["inventory"]["revoked"] = "yes"
    document["members"][1]["role"] = "boss"
    inventory = write(tmp_path / "bad.json", document)
    out = tmp_path / "out.jsonl"
    result = streamed(inventory, out)
    assert result.returncode == 2
    assert errors_of(result) == [
        f"token-auditor: invalid: {inventory}:39: /members/1/role: 'boss' is not one of "
        "['no_access', 'read', 'contributor', 'write', 'admin', None]",
        f"token-auditor: invalid: {inventory}:208: /tokens/2/inventory/revoked: 'yes' is not of type 'boolean'",
    ]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]
    result = whole(inventory, tmp_path / "w.jsonl")  # the whole-file path names the same two
    assert result.returncode == 2 and sorted(errors_of(result)) == sorted(errors_of(streamed(inventory, out)))


def test_a_saved_api_error_answer_is_refused_as_the_loader_does(tmp_path):
    document = {
        "format": "huggingface-inventory/v1",
        "collected_at": NOW,
        "tokens": [{"error": "Invalid username or password."}],
    }
    inventory = write(tmp_path / "err.json", document, indent=None)
    result = streamed(inventory, tmp_path / "o.jsonl")
    assert result.returncode == 2
    assert errors_of(result) == [
        f'token-auditor: error: {inventory}:1: /tokens: a API error answer ("Invalid username or password.") instead of '
        "the export; fix the access and export again"
    ]


@pytest.mark.parametrize("kind", ["huggingface", "neutral"])
def test_duplicate_top_level_keys_and_numbers_beyond_a_double(tmp_path, kind):
    if kind == "huggingface":
        document = hf_fixture("service-account")
    else:
        document = fixture("neutral", "package-registries")
    text = json.dumps(document, indent=2)
    assert text.count('\n  "collected_at": ') == 1
    duplicated = text.replace('\n  "collected_at": ', '\n  "collected_at": "2026-01-01T00:00:00Z",\n  "collected_at": ')
    inventory = tmp_path / "dup.json"
    inventory.write_text(duplicated)
    result = streamed(inventory, tmp_path / "o.jsonl")
    assert result.returncode == 2
    assert errors_of(result) == [f'token-auditor: error: {inventory}: duplicate key "collected_at" in a JSON object']
    assert errors_of(whole(inventory, tmp_path / "w.jsonl")) == errors_of(result)

    huge = text.replace('"tokens": [', '"tokens": [\n' + '{"x": 1e999},', 1)  # in the first token entry
    inventory.write_text(huge)
    result = streamed(inventory, tmp_path / "o.jsonl")
    assert result.returncode == 2
    line = huge.splitlines().index('{"x": 1e999},') + 1
    assert errors_of(result) == [
        f"token-auditor: error: {inventory}:{line}: a number too large for a double (it would become Infinity)"
    ]
    assert errors_of(whole(inventory, tmp_path / "w.jsonl")) == errors_of(result)
    assert not (tmp_path / "o.jsonl").exists()

    late = text[: text.rindex("}")] + ',\n  "extra": -2e400\n}'  # in the context, after the tokens
    inventory.write_text(late)
    result = streamed(inventory, tmp_path / "o.jsonl")
    line = late.splitlines().index('  "extra": -2e400') + 1
    assert result.returncode == 2
    assert errors_of(result) == [
        f"token-auditor: error: {inventory}:{line}: a number too large for a double (it would become Infinity)"
    ]
    assert errors_of(whole(inventory, tmp_path / "w.jsonl")) == errors_of(result)


def test_token_inventory_json_with_its_format_after_the_tokens_streams(tmp_path):
    document = fixture("neutral", "package-registries")
    tokens = [t for t in document.pop("tokens") if t["id"] != "pypi-project-0b77"]  # PyPI's only token: inactive
    document = {"tokens": tokens, **document}  # format, collected_at, orgs after the tokens
    assert next(iter(document)) == "tokens"
    rows = same_lines(write(tmp_path / "late.json", document), tmp_path, "--chunk-size", "1")
    summary = rows[-1]["summary"]
    assert (summary["tokens"], summary["audited"], summary["skipped"]) == (3, 2, 1)
    assert [(i["format"], i["provider"], i["tokens"]) for i in rows[-1]["inputs"]] == [
        ("token-inventory/v1", "npm,pypi", 3)
    ]


def test_a_large_export_has_no_line_numbers_as_the_loader(tmp_path):
    # above the loader's 2 MiB line-map limit: pointers only, on both paths
    document = generate_inventory.huggingface_inventory(3000, seed=2)
    document["tokens"][2999]["inventory"]["revoked"] = "yes"
    inventory = generate_inventory.write_json(document, tmp_path / "big.json")
    assert inventory.stat().st_size > 2 * 1024 * 1024
    result = streamed(inventory, tmp_path / "o.jsonl")
    assert result.returncode == 2
    message = f"token-auditor: invalid: {inventory}: /tokens/2999/inventory/revoked: 'yes' is not of type 'boolean'"
    assert errors_of(result) == [message]
    assert errors_of(audit(str(inventory), "-f", "json", "-o", str(tmp_path / "w.json"))) == [message]

    text = inventory.read_text()
    inventory.write_text(text.replace('"revoked":"yes"', '"revoked":1e999'))  # beyond a double
    result = streamed(inventory, tmp_path / "o.jsonl")
    assert result.returncode == 2
    # yajl's reason, worded as the loader's; the line is left out above the line-map limit
    assert errors_of(result) == [
        f"token-auditor: error: {inventory}: a number too large for a double (it would become Infinity)"
    ]


def test_tokens_missing_or_not_an_array_is_a_schema_error(tmp_path):
    base = {"format": "huggingface-inventory/v1", "collected_at": NOW}
    for name, document, message in (
        ("absent", base, "/: 'tokens' is a required property"),
        ("object", {**base, "tokens": {"item": {"inventory": {"id": "a", "owner": "b"}}}}, "/tokens: {'item': "),
    ):
        inventory = write(tmp_path / f"{name}.json", document, indent=None)
        result = streamed(inventory, tmp_path / "o.jsonl")
        assert result.returncode == 2
        assert errors_of(result)[0].startswith(f"token-auditor: invalid: {inventory}:1: {message}")
        assert errors_of(result) == errors_of(whole(inventory, tmp_path / "w.jsonl"))
        assert not (tmp_path / "o.jsonl").exists()


def test_tokens_lacking_evidence_are_counted_across_chunks(tmp_path):
    """Tokens whose own evidence is missing are tallied per owner while streaming, not held: three tokens in three
    chunks, two of one owner, make one not-assessed entry per rule and owner with its token count."""
    document = {
        "format": "huggingface-inventory/v1",
        "collected_at": "2026-11-20T09:00:00Z",
        "account": {"name": "jdoe-ml", "orgs": []},
        "tokens": [
            {"inventory": {"id": f"t-{n}", "name": f"ci-{n}", "owner": owner, "kind": "user_access_token"}}
            for n, owner in enumerate(["jdoe-ml", "asmith", "jdoe-ml"])
        ],
        "collection": {"endpoints": {"token_usage": {"status": "not_applicable", "note": "whoami-v2 does not say"}}},
    }
    inventory = write(tmp_path / "usage.json", document)
    entries = [
        (e["rule_id"], e["org"], e["tokens"]) for e in same_json_report(inventory, tmp_path, "1")["not_assessed"]
    ]
    assert entries == [
        ("never-used-token", "asmith", 1),
        ("never-used-token", "jdoe-ml", 2),
        ("stale-token", "asmith", 1),
        ("stale-token", "jdoe-ml", 2),
    ]
