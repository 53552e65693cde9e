"""Defects an independent review found after the merge: a value that is itself a token, or a terminal escape,
in a collected source, a saved report or a plan script."""

from __future__ import annotations

import copy
import json

from conftest import run_cli

from tests.replay.server import ReplayServer, clean_env

PLANTED_KEY = "ghp_PLANTEDkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAA1234"  # ghp_ + 36
PLANTED_PLACE = "glpat-PLANTEDplace12345678"  # glpat- + 20
IN_CI = "api_org_PLANTEDciCCCCCCCCCCCCCCCCCCCCCCCCCCCe5f6"
OSC_TITLE = "\x1b]0;PWNED\x07\x1b[31mred"


def test_collect_redacts_token_values_in_secret_locations_and_keys(tmp_path):
    ci = tmp_path / "ci.json"
    ci.write_text(
        json.dumps([{"location": PLANTED_PLACE, "key": PLANTED_KEY, "value": IN_CI, "kind": "github_actions_secret"}])
    )
    out = tmp_path / "hf.json"
    with ReplayServer("huggingface.json") as server:
        result = run_cli(
            "collect",
            "huggingface",
            "--endpoint",
            server.base,
            "-o",
            str(out),
            "--ci-secrets",
            str(ci),
            env=clean_env({"HF_HOME": str(tmp_path / "home"), "HF_TOKEN": ""}),
            timeout=120,
        )
    written = out.read_text()
    assert result.returncode == 0, result.stderr
    for value in (PLANTED_KEY, PLANTED_PLACE, IN_CI):
        assert value not in written + result.stdout + result.stderr
    assert (
        "token-auditor: warning: collect huggingface: 2 token value(s) in the collected data were redacted "
        "before writing (/tokens/0/inventory/stored_in/0/key, /tokens/0/inventory/stored_in/0/location)"
        in result.stderr
    )
    assert json.loads(written)["tokens"][0]["inventory"]["stored_in"][0]["key"] == "[REDACTED]:ghp_…1234"


def test_csv_and_plan_outputs_send_no_terminal_escape(github_fixture_report, tmp_path):
    data = copy.deepcopy(github_fixture_report)
    data["findings"][0]["subject"]["owner"] = OSC_TITLE
    data["plans"][0]["token"]["name"] = OSC_TITLE
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    csv = run_cli("report", str(edited), "-f", "csv")
    assert csv.returncode == 0, csv.stderr
    assert "\\x1b]0;PWNED\\x07\\x1b[31mred" in csv.stdout
    for fmt in ("sh", "markdown"):
        plan = run_cli("plan", str(edited), "-f", fmt)
        assert plan.returncode == 0, plan.stderr
        assert "\x1b" not in plan.stdout and "\x07" not in plan.stdout
    assert "\x1b" not in csv.stdout


def test_plan_refuses_an_edited_report_that_would_inject_into_the_script(github_fixture_report, tmp_path):
    data = copy.deepcopy(github_fixture_report)
    request = next(r for p in data["plans"] for r in p["requests"] if r.get("auth"))
    request["auth"]["variable"] = "GITHUB_TOKEN:-x}$(touch /tmp/pwned)${GITHUB_TOKEN"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = run_cli("plan", str(edited), "-f", "sh")
    assert result.returncode == 2
    assert result.stderr == (
        "token-auditor: error: plan: request auth.variable "
        "'GITHUB_TOKEN:-x}$(touch /tmp/pwned)${GITHUB_TOKEN' is not a shell variable name\n"
    )
    request["auth"]["variable"] = "GITHUB_TOKEN"
    request["method"] = "POST; touch /tmp/pwned"
    edited.write_text(json.dumps(data))
    result = run_cli("plan", str(edited), "-f", "sh")
    assert result.returncode == 2
    assert result.stderr.endswith(
        "/plans/0/requests/2/method: not a valid token-auditor report: must be one of "
        "['GET', 'POST', 'PUT', 'PATCH', 'DELETE']\n"
    )
