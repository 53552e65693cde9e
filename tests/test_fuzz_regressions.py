"""Defects the fuzz harness (test_fuzz_inventories.py) found, each pinned by a literal example."""

from __future__ import annotations

import json

import jsonschema
from conftest import NOW, run_cli

from auditor.inventory.validate import load_schema

UNKNOWN_PERMISSION_TOKEN = {
    "id": "u1",
    "provider": "github",
    "kind": "fine_grained_pat",
    "name": "odd \x1b]52;c;ZXZpbA==\x07 bot",
    "owner": "alice",
    "expiry_supported": True,
    "grants": [{"resource": {"type": "repository", "name": "acme/api"}, "permissions": ["wormholes:write"]}],
    "created_at": "2026-11-01T00:00:00Z",
    "expires_at": "2026-12-30T00:00:00Z",
    "last_used_at": "2026-11-24T00:00:00Z",
}


def _audit(opa_server, tmp_path, token: dict, *formats: str):
    path = tmp_path / "inv.json"
    path.write_text(
        json.dumps({"format": "token-inventory/v1", "collected_at": "2026-11-24T00:00:00Z", "tokens": [token]})
    )
    url, secret = opa_server
    out = tmp_path / "out"
    result = run_cli(
        "audit",
        str(path),
        "--now",
        NOW,
        "--output-dir",
        str(out),
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_T",
        *[a for f in formats for a in ("-f", f)],
        env={"TA_T": secret},
    )
    return result, out


def test_unknown_permission_review_action_is_a_valid_answer_and_report(opa_server, tmp_path):
    """unknown-permission recommends `review`: OPA's answer was refused (exit 3) and the report broke its schema."""
    result, out = _audit(opa_server, tmp_path, UNKNOWN_PERMISSION_TOKEN, "json")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "token-auditor.json").read_text())
    assert [(f["rule_id"], f["recommendation"]["action"]) for f in report["findings"]] == [
        ("unknown-permission", "review")
    ]
    jsonschema.validate(report, load_schema("report.v1"))


def test_html_shows_control_characters_as_escapes(opa_server, tmp_path):
    """HTML forbids C0/C1 controls: an OSC 52 sequence in a name is shown as text, never written raw."""
    result, out = _audit(opa_server, tmp_path, UNKNOWN_PERMISSION_TOKEN, "html")
    assert result.returncode == 0, result.stderr
    page = (out / "token-auditor.html").read_text()
    assert "\x1b" not in page and "\x07" not in page
    assert "odd \\x1b]52;c;ZXZpbA==\\x07 bot" in page
