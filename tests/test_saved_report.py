"""Saved reports read back: schema 1.x reports (subject `fingerprint`) load in every command that reads a report,
upgraded to 2.0 (subject `masked`, gate state `fails_gate`); and formats show the frameworks of the run's own
--policy-dir, which build_report assesses (formats read no file)."""

from __future__ import annotations

import json
import shutil

from auditor.saved_report import upgrade
from tests.conftest import NOW, ROOT, run_cli

OLD = ROOT / "tests" / "data" / "report-1.0.json"
NEUTRAL = ROOT / "fixtures" / "neutral"
MASKED = [
    ("legacy-token", "npm_…9f2c"),
    ("no-expiry", "npm_…9f2c"),
    ("stale-token", "pypi-…0b77"),
    ("unrotated-token", "npm_…9f2c"),
    ("unrotated-token", "pypi-…0b77"),
]


def test_upgrade_renames_the_subject_masked_token_and_nothing_else():
    old = {"schema_version": "1.0", "findings": [{"subject": {"type": "token", "key": "k", "fingerprint": "x_…1"}}]}
    assert upgrade(old) == {
        "schema_version": "2.0",
        "findings": [{"subject": {"type": "token", "key": "k", "masked": "x_…1"}}],
    }
    current = {"schema_version": "2.0", "findings": [{"subject": {"type": "token", "key": "k", "fingerprint": "y"}}]}
    assert upgrade(current)["findings"][0]["subject"] == {"type": "token", "key": "k", "fingerprint": "y"}


def test_report_command_reads_a_1_0_report_as_2_0():
    result = run_cli("report", str(OLD), "-f", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema_version"] == "2.0"
    assert [(f["rule_id"], f["subject"]["masked"]) for f in report["findings"]] == MASKED
    assert not any("fingerprint" in f["subject"] for f in report["findings"])
    # saved with --fail-on never: nothing fails its gate
    assert [f["fails_gate"] for f in report["findings"]] == [False] * 5
    table = run_cli("report", str(OLD), "-f", "table")
    assert table.returncode == 0, table.stderr
    assert "│ [new]        │ legacy publish token │" in table.stdout
    assert "│              │ npm_…9f2c            │" in table.stdout


def test_plan_and_frameworks_read_a_1_0_report():
    plans = run_cli("plan", str(OLD), "-f", "json")
    assert plans.returncode == 0, plans.stderr
    assert sorted(p["token"]["masked"] for p in json.loads(plans.stdout)["plans"]) == ["npm_…9f2c", "pypi-…0b77"]
    frameworks = run_cli("frameworks", "--report", str(OLD), "-f", "json")
    assert frameworks.returncode == 0, frameworks.stderr
    owasp = json.loads(frameworks.stdout)[0]
    assert owasp["id"] == "owasp-nhi-2025"
    assert {r["id"]: r["status"] for r in owasp["requirements"]}["NHI7"] == "fail"


def test_a_1_0_report_is_a_baseline(opa_server):
    url, token = opa_server
    result = run_cli(
        "audit", str(NEUTRAL), "--now", NOW, "--baseline", str(OLD), "-f", "json",
        "--opa-url", url, "--opa-token-env", "T", env={"T": token},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["baseline"] == {"file": str(OLD), "fingerprints": 5, "matched": 5, "new": 0, "resolved": 0}
    assert report["gate"]["baseline"] == 5 and report["gate"]["passed"] is True


def test_a_report_of_an_unknown_major_version_is_refused(tmp_path):
    future = json.loads(OLD.read_text())
    future["schema_version"] = "3.0"
    path = tmp_path / "future.json"
    path.write_text(json.dumps(future))
    result = run_cli("report", str(path), "-f", "json")
    assert result.returncode == 2
    assert (
        result.stderr
        == f"token-auditor: error: {path}: /schema_version: not a valid token-auditor report: must match pattern ^2\\.\n"
    )


def test_html_shows_the_frameworks_of_the_runs_policy_dir(opa_server, tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    for mapping in (policies / "frameworks").glob("*.y*ml"):
        mapping.unlink()
    (policies / "frameworks" / "house.yaml").write_text(
        "house-rules:\n"
        "  format: framework-mapping/v1\n"
        "  title: House rules for tokens\n"
        "  requirements:\n"
        "    - id: HR-1\n"
        "      title: Tokens expire\n"
        "      rules: [no-expiry]\n",
        encoding="utf-8",
    )
    url, token = opa_server
    out = tmp_path / "out"
    result = run_cli(
        "audit", str(NEUTRAL), "--now", NOW, "--fail-on", "never", "--policy-dir", str(policies),
        "-f", "html", "-f", "markdown", "--output-dir", str(out), "--opa-url", url, "--opa-token-env", "T",
        env={"T": token},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = (out / "token-auditor.html").read_text()
    assert 'data-framework="house-rules"' in page and "House rules for tokens" in page
    assert 'data-framework="owasp-nhi-2025"' not in page
    comment = (out / "token-auditor.md").read_text()
    assert "**House rules for tokens**: 1 fail" in comment
    assert "| HR-1 | Tokens expire | fail | `no-expiry` |" in comment
    assert "OWASP Top 10 Non-Human Identities" not in comment
