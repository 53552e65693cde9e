"""Paths given on the command line: relative ones, missing ones, and saved reports edited by hand."""

from __future__ import annotations

import json
import os

import pytest
from conftest import FIXTURES, NOW, OPA_BIN, run_cli


def test_relative_opa_bin_is_taken_from_the_current_directory(tmp_path):
    (tmp_path / "bin").mkdir()
    os.symlink(OPA_BIN, tmp_path / "bin" / "opa")
    audited = run_cli(
        "audit", str(FIXTURES / "github"), "--now", NOW, "--fail-on", "never", "-q", "--opa-bin", "bin/opa",
        cwd=tmp_path,
    )  # fmt: skip
    assert (audited.returncode, audited.stderr) == (0, "")
    assert audited.stdout == "gate: PASS (fail-on never): 23 new findings, none can fail the gate\n"
    bundled = run_cli("bundle", "-o", "policies.tar.gz", "--opa-bin", "bin/opa", cwd=tmp_path)
    assert bundled.returncode == 0, bundled.stderr
    assert (tmp_path / "policies.tar.gz").stat().st_size > 0


@pytest.mark.parametrize(
    "command",
    [
        ["plan", "report.json"],
        ["audit", str(FIXTURES / "github")],
        ["rules"],
        ["frameworks"],
        ["bundle", "-o", "b.tar.gz"],
    ],
)
def test_a_missing_policy_dir_is_an_input_error(tmp_path, command):
    result = run_cli(*command, "--policy-dir", "no-such-policies", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "token-auditor: error: --policy-dir no-such-policies: no such directory\n"


@pytest.mark.parametrize("fmt", ["json", "markdown", "sh"])
@pytest.mark.parametrize(
    "drop, missing",
    [
        ("auth", "auth.variable and auth.needs"),
        ("url", "url"),
        ("needs", "auth.needs"),
    ],
)
def test_plan_of_an_edited_report_whose_request_lacks_a_field_is_exit_2(
    github_fixture_report, tmp_path, fmt, drop, missing
):
    data = json.loads(json.dumps(github_fixture_report))
    request = data["plans"][0]["requests"][2]
    assert request["kind"] == "api"
    if drop == "needs":
        del request["auth"]["needs"]
    else:
        del request[drop]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = run_cli("plan", str(edited), "-f", fmt)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"token-auditor: error: {edited}: /plans/0/requests/2: a request of kind api needs {missing} (text); "
        "not a plan that token-auditor writes\n"
    )


def test_plan_of_an_edited_report_whose_settings_request_lacks_its_url_is_exit_2(github_fixture_report, tmp_path):
    data = json.loads(json.dumps(github_fixture_report))
    where = next(
        (p, r)
        for p, plan in enumerate(data["plans"])
        for r, request in enumerate(plan["requests"])
        if request["kind"] == "settings"
    )
    del data["plans"][where[0]]["requests"][where[1]]["url"]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = run_cli("plan", str(edited), "-f", "markdown")
    assert result.returncode == 2
    assert result.stderr == (
        f"token-auditor: error: {edited}: /plans/{where[0]}/requests/{where[1]}: a request of kind settings needs url "
        "(text); not a plan that token-auditor writes\n"
    )
