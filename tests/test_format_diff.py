"""The diff document's formats (`diff -f table|json|markdown|sarif`), one Format each, rendering a literal document.

(The diff itself, run on inventories with and without OPA: test_gate_diff.py.)"""

from __future__ import annotations

import json

from auditor.gate.diff_format import DIFF_FORMATS
from tests.format_support import github_upload_problems, sarif_errors, small_report


def diff_document(fail_on_broadening: bool = False) -> dict:
    introduced = small_report().findings[:2]  # broad-scope fails the gate; no-expiry is waived
    return {
        "schema_version": "2.0",
        "kind": "token-auditor-diff",
        "tool": {"name": "token-auditor", "version": "9.9.9"},
        "engine": None,
        "policy": None,
        "now": "2026-11-25T00:00:00Z",
        "base": {"paths": ["a.json"], "inputs": [], "tokens": 1, "skipped": 0, "findings": 0},
        "head": {
            "paths": ["inv.json"],
            "inputs": [{"path": "inv.json", "sha256": "0" * 64, "format": "github", "provider": "github", "tokens": 2}],
            "tokens": 2,
            "skipped": 0,
            "findings": 2,
        },
        "summary": {
            "added": 0,
            "removed": 0,
            "changed": 1,
            "unchanged": 1,
            "broader": 1,
            "narrower": 0,
            "neutral": 0,
            "broadening_changes": 1,
            "findings_compared": True,
            "findings_introduced": 2,
            "findings_resolved": 0,
            "introduced_by_severity": {"critical": 0, "high": 2, "medium": 0, "low": 0, "info": 0},
        },
        "tokens": [
            {
                "status": "changed",
                "classification": "broader",
                "key": "github:classic_pat:1",
                "provider": "github",
                "kind": "classic_pat",
                "id": "1",
                "name": "deploy",
                "owner": "alice",
                "masked": "ghp_…aaaa",
                "source": {"file": "inv.json", "pointer": "/tokens/0", "line": 3},
                "changes": [
                    {
                        "kind": "scope_added",
                        "classification": "broader",
                        "field": "scopes",
                        "summary": "+ scope repo",
                        "before": None,
                        "after": "repo",
                    }
                ],
            }
        ],
        "findings": {"introduced": introduced, "resolved": []},
        "rules": [],
        "gate": {
            "fail_on": "high",
            "fail_on_broadening": fail_on_broadening,
            "failing_findings": 1,
            "broadening": 1,
            "passed": False,
        },
    }


def test_registry_names_and_extensions():
    assert {name: f.extension for name, f in DIFF_FORMATS.items()} == {
        "table": "txt",
        "json": "json",
        "markdown": "md",
        "sarif": "sarif",
    }


def test_markdown_literal_sections():
    text = DIFF_FORMATS["markdown"].render(diff_document())
    assert text.startswith(
        "## token-auditor diff\n\n❌ **Gate failed**: 1 new finding(s) at or above `high` · 0 added, 0 removed, "
        "1 changed token(s): **1 broader**, 0 narrower, 0 neutral · findings 2 introduced, 0 resolved\n"
    )
    assert "| changed | ▲ broader | github | deploy (ghp\\_…aaaa) | alice | \\+ scope repo |" in text
    assert "### New findings at or above `high` (1)\n\n#### 🟧 `broad-scope` · deploy (ghp\\_…aaaa)" in text
    assert (
        "| 🟧 high | `no-expiry` | notes (ghp\\_…bbbb) | bob | notes never expires | waived until 2026-12-31 |" in text
    )


def test_markdown_follows_the_gate_state_of_each_finding():
    data = diff_document()
    data["findings"]["introduced"][0]["fails_gate"] = False
    text = DIFF_FORMATS["markdown"].render(data)
    assert "New findings at or above" not in text and "Other new findings (2)" in text


def test_table_literal_lines():
    text = DIFF_FORMATS["table"].render(diff_document())
    lines = text.splitlines()
    assert lines[0] == "token-auditor diff · now 2026-11-25T00:00:00Z · FAIL"
    assert lines[1] == (
        "tokens: 0 added, 0 removed, 1 changed (1 broader, 0 narrower, 0 neutral) · findings: 2 introduced, 0 resolved"
    )
    assert "│ changed  │ ▲ broader │ github     │ deploy (ghp_…aaaa) │ alice   │ ▲ + scope repo │" in lines
    assert "high        no-expiry    notes    notes never expires [waived]" in lines


def test_json_is_the_document():
    assert json.loads(DIFF_FORMATS["json"].render(diff_document())) == json.loads(json.dumps(diff_document()))


def test_sarif_valid_with_the_broadening_result():
    sarif = json.loads(DIFF_FORMATS["sarif"].render(diff_document(fail_on_broadening=True)))
    assert sarif_errors(sarif) == [] and github_upload_problems(sarif) == []
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("broad-scope", "error"),
        ("no-expiry", "error"),
        ("access-broadened", "error"),
    ]
    assert results[2]["message"]["text"] == "github token deploy (owner alice): + scope repo."
