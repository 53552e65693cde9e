"""`token-auditor report RESULT.json`: any format from a saved JSON report, without OPA; bad files exit 2."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import audit_to_json, run_cli, write_yaml

INVENTORY = """\
format: token-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
tokens:
  - id: t1
    provider: github
    kind: classic_pat
    name: deploy-bot
    owner: alice
    legacy: true
    scopes: [repo, workflow]
    created_at: "2024-01-01T00:00:00Z"
    stored_in: [{kind: github_actions_secret, location: acme/app, key: GH_TOKEN}]
  - id: t2
    provider: huggingface
    kind: user_access_token
    owner: bob
    grants: [{resource: {type: model, name: acme/m}, permissions: [repo.content.read]}]
    created_at: "2026-10-01T00:00:00Z"
    last_used_at: "2026-11-20T00:00:00Z"
    expires_at: "2027-01-01T00:00:00Z"
"""


@pytest.fixture(scope="module")
def saved_once(opa_server, tmp_path_factory):
    """One audit for the module: the tests only read the saved file."""
    folder = tmp_path_factory.mktemp("saved")
    code, report, stderr = audit_to_json(
        opa_server, folder, write_yaml(folder / "inv.yaml", INVENTORY), extra=("--fail-on", "never")
    )
    assert code == 0, stderr
    path = folder / "result.json"
    path.write_text(json.dumps(report))
    return path, report


@pytest.fixture()
def saved(saved_once):
    """The saved report's path and a copy of its document, which a test may change."""
    path, report = saved_once
    return path, copy.deepcopy(report)


def test_report_has_token_facts_sorted_without_native_objects(saved):
    _, report = saved
    keys = [t["key"] for t in report["tokens"]]
    assert keys == sorted(keys) == ["github:classic_pat:t1", "huggingface:user_access_token:t2"]
    first = report["tokens"][0]
    assert "native" not in first and first["scopes"] == ["repo", "workflow"]
    assert first["stored_in"] == [{"kind": "github_actions_secret", "location": "acme/app", "key": "GH_TOKEN"}]


def test_json_round_trips_and_table_matches_a_fresh_render(saved, tmp_path):
    path, report = saved
    out = tmp_path / "again.json"
    result = run_cli("report", str(path), "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == report
    result = run_cli("report", str(path), "--format", "table")
    assert result.returncode == 0 and "legacy-token" in result.stdout and "deploy-bot" in result.stdout


def test_every_known_format_renders(saved, tmp_path):
    from auditor.report.formats import FORMATS

    path, _ = saved
    for name in sorted(FORMATS):
        out = tmp_path / f"out.{name}"
        result = run_cli("report", str(path), "-f", name, "-o", str(out))
        assert result.returncode == 0, (name, result.stderr)
        assert out.stat().st_size > 0


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not JSON"),
        ('{"format": "token-inventory/v1", "tokens": []}', "not a token-auditor report"),
        ("[1, 2]", "not a token-auditor report"),
    ],
)
def test_not_a_report_is_a_one_line_exit_2(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run_cli("report", str(path), "-f", "table")
    assert result.returncode == 2
    assert message in result.stderr and str(path) in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_schema_violation_names_the_pointer(saved, tmp_path):
    _, report = saved
    report["findings"][0]["severity"] = "catastrophic"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(report))
    result = run_cli("report", str(path), "-f", "table")
    assert result.returncode == 2 and "/findings/0/severity" in result.stderr


def test_missing_file_and_unknown_format(saved, tmp_path):
    path, _ = saved
    result = run_cli("report", str(tmp_path / "nope.json"), "-f", "json")
    assert result.returncode == 2 and "no such file" in result.stderr
    result = run_cli("report", str(path), "-f", "pdf")
    assert result.returncode == 2 and "unknown format 'pdf'" in result.stderr


def test_frameworks_status_for_a_saved_report(saved):
    path, report = saved
    result = run_cli("frameworks", "owasp-nhi-2025", "--report", str(path), "-f", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in json.loads(result.stdout)[0]["requirements"]}
    assert rows["NHI4"]["status"] == "fail" and "legacy-token" in rows["NHI4"]["failed_rules"]
    assert rows["NHI10"]["status"] == "manual"
    fired = {f["rule_id"] for f in report["findings"]}
    for row in rows.values():
        assert (row["status"] == "fail") == bool(set(row["rules"]) & fired)
    result = run_cli("frameworks", "cis-github-benchmark", "--report", str(path))
    assert result.returncode == 0 and "1.4.3" in result.stdout and "manual" in result.stdout


def test_markdown_report_shows_compliance_status(saved):
    path, _ = saved
    result = run_cli("report", str(path), "-f", "markdown")
    assert result.returncode == 0, result.stderr
    assert "Compliance: OWASP NHI 2025 and CIS GitHub" in result.stdout
    assert "| NHI4 | Insecure Authentication | fail | `legacy-token` |" in result.stdout
    assert "| NHI10 | Human Use of NHI | manual |  |" in result.stdout
