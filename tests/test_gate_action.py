"""The composite GitHub Action and the pre-commit hook, run as their shell (no GitHub runner here).

Each `run:` step of action.yml is executed with bash the way the runner does: its `env:` with the
`${{ … }}` expressions resolved (inputs, github.action_path, runner.temp, earlier steps' outputs from
$GITHUB_OUTPUT). `uses:` steps (setup-python, setup-opa, upload-sarif) are what the runner provides;
here the repo's venv and .bin/opa stand in through the action's `python` and `opa-bin` inputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys

import pytest
import yaml

from tests.conftest import NOW, OPA_BIN, ROOT, run
from tests.format_support import github_upload_problems, sarif_errors

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def parse_outputs(path) -> dict:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                out[key] = value
    return out


def run_action(workspace, inputs: dict) -> tuple[int | None, dict, dict, str]:
    """Run every `run:` step in order, stopping at the first failing one like the runner does."""
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update({"now": NOW, **inputs})
    temp = workspace / "_runner_temp"
    temp.mkdir(exist_ok=True)
    summary = workspace / "_step_summary.md"
    steps_outputs: dict[str, dict] = {}
    log = []

    def resolve(text: str) -> str:
        def one(match):
            expr = match.group(1)
            if expr.startswith("inputs."):
                return values[expr.removeprefix("inputs.")]
            if expr == "github.action_path":
                return str(ROOT)
            if expr == "runner.temp":
                return str(temp)
            m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if m:
                return steps_outputs.get(m.group(1), {}).get(m.group(2), "")
            raise AssertionError(f"unhandled expression {expr}")

        return EXPR.sub(one, str(text))

    last_code = None
    for index, step in enumerate(ACTION["runs"]["steps"]):
        if "run" not in step:
            continue
        assert step["shell"] == "bash"
        output_file = workspace / f"_output_{index}"
        env = {
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(temp),
            "GITHUB_ACTION_PATH": str(ROOT),
        }
        env.update({k: resolve(v) for k, v in (step.get("env") or {}).items()})
        result = run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        log.append(f"--- {step['name']} (exit {result.returncode})\n{result.stdout}\n{result.stderr}")
        if step.get("id"):
            steps_outputs[step["id"]] = parse_outputs(output_file)
        last_code = result.returncode
        if result.returncode != 0:
            break
    return last_code, steps_outputs, {"summary": summary}, "\n".join(log)


@pytest.fixture()
def workspace(tmp_path):
    (tmp_path / "inventories").mkdir()
    shutil.copy(ROOT / "tests" / "data" / "gate" / "head.json", tmp_path / "inventories" / "hf-tokens.json")
    return tmp_path


def test_scripts_take_inputs_only_through_env():
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"{step['name']}: expression spliced into the script"
    assert set(ACTION["inputs"]) >= {"paths", "fail-on", "waivers", "baseline", "formats"}
    assert ACTION["runs"]["using"] == "composite"
    uses = [s["uses"] for s in ACTION["runs"]["steps"] if "uses" in s]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    install = [s for s in ACTION["runs"]["steps"] if s.get("id") == "install"][0]
    assert "--require-hashes" in install["run"] and "requirements/action.lock" in install["run"]
    assert ACTION["inputs"]["opa-version"]["default"] == ""  # empty: the pinned .opa-version


def test_action_fails_the_job_on_findings_and_writes_reports(workspace):
    code, outputs, files, log = run_action(
        workspace,
        {
            "paths": "inventories/hf-tokens.json",
            "python": sys.executable,
            "opa-bin": OPA_BIN,
            "formats": "markdown, json junit",
        },
    )
    assert code == 1, log
    audit = outputs["audit"]
    assert audit["exit-code"] == "1" and audit["report-dir"] == "token-auditor-report"
    assert outputs["install"] == {"python": sys.executable, "opa": OPA_BIN}
    sarif_path = workspace / audit["sarif"]
    sarif = json.loads(sarif_path.read_text())
    assert sarif_errors(sarif) == [] and github_upload_problems(sarif) == []
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"inventories/hf-tokens.json"}
    report_dir = workspace / "token-auditor-report"
    assert {p.name for p in report_dir.iterdir()} == {
        "token-auditor.sarif",
        "token-auditor.md",
        "token-auditor.json",
        "token-auditor.xml",
    }
    assert files["summary"].read_text().startswith("## token-auditor")
    assert "::error title=token-auditor::findings at or above 'high'" in log


def test_action_passes_with_waivers_and_baseline(workspace):
    first = run_action(
        workspace,
        {
            "paths": "inventories/hf-tokens.json",
            "python": sys.executable,
            "opa-bin": OPA_BIN,
            "formats": "json",
            "output-dir": "before",
        },
    )
    assert first[0] == 1, first[3]
    code, outputs, _, log = run_action(
        workspace,
        {
            "paths": "inventories/hf-tokens.json\n",
            "python": sys.executable,
            "opa-bin": OPA_BIN,
            "baseline": "before/token-auditor.json",
            "formats": "sarif",
        },
    )
    assert code == 0, log
    assert outputs["audit"]["exit-code"] == "0"
    # The fixture's only high findings are legacy-token and no-expiry on tok-legacy-1: waiving both passes.
    (workspace / "waivers.yaml").write_text(
        "waivers:\n"
        "  - {rule_id: legacy-token, match: {token_id: tok-legacy-1}, reason: migration, approved_by: lead,"
        " expires: 2026-12-31}\n"
        "  - {rule_id: no-expiry, match: {token_id: tok-legacy-1}, reason: migration, approved_by: lead,"
        " expires: 2026-12-31}\n"
    )
    code, outputs, _, log = run_action(
        workspace,
        {
            "paths": "inventories/hf-tokens.json",
            "python": sys.executable,
            "opa-bin": OPA_BIN,
            "waivers": "waivers.yaml",
            "fail-on": "high",
            "formats": "json",
            "output-dir": "waived",
        },
    )
    assert code == 0, log
    assert outputs["audit"]["exit-code"] == "0"
    gate = json.loads((workspace / "waived" / "token-auditor.json").read_text())["gate"]
    assert (gate["waived"], gate["failing"], gate["passed"]) == (2, 0, True)
    code, outputs, _, log = run_action(
        workspace,
        {
            "paths": "inventories/hf-tokens.json",
            "python": sys.executable,
            "opa-bin": OPA_BIN,
            "waivers": "waivers.yaml",
            "fail-on": "medium",
        },
    )
    assert code == 1 and outputs["audit"]["exit-code"] == "1", log


def test_action_reports_input_errors_as_exit_2(workspace):
    (workspace / "inventories" / "broken.json").write_text("{not json")
    code, outputs, _, log = run_action(
        workspace, {"paths": "inventories/broken.json", "python": sys.executable, "opa-bin": OPA_BIN}
    )
    assert code == 2 and outputs["audit"]["exit-code"] == "2", log
    assert "broken.json" in log
    code, _, _, log = run_action(workspace, {"paths": "  ", "python": sys.executable, "opa-bin": OPA_BIN})
    assert code == 2 and "input 'paths' is empty" in log


HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_pre_commit_hook_matches_inventory_files_and_blocks_on_findings(workspace):
    [hook] = HOOKS
    pattern = re.compile(hook["files"])
    assert pattern.search("inventories/tokens.json") and pattern.search("token-inventory.yaml")
    assert pattern.search("exports/token_inventory.prod.yml") and pattern.search("token-inventories/hf.json")
    assert not pattern.search("package.json") and not pattern.search("src/inventory.py")
    entry = ROOT / hook["entry"]
    assert hook["language"] == "script" and os.access(entry, os.X_OK)
    env = {"TOKEN_AUDITOR_PYTHON": sys.executable}
    result = run(
        [str(entry), "--now", NOW, "inventories/hf-tokens.json"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "legacy-token" in result.stdout
    nothing = run([str(entry)], cwd=workspace, env=env, capture_output=True, text=True, timeout=60)
    assert nothing.returncode == 0


def test_documented_workflow_uses_only_real_inputs_and_outputs():
    text = (ROOT / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    workflow = [yaml.safe_load(b) for b in blocks if "jobs:" in b][0]
    steps = workflow["jobs"]["audit"]["steps"]
    [audit] = [s for s in steps if s.get("id") == "audit"]
    assert set(audit["with"]) <= set(ACTION["inputs"]), set(audit["with"]) - set(ACTION["inputs"])
    used_outputs = set(re.findall(r"steps\.audit\.outputs\.([\w-]+)", text))
    assert used_outputs and used_outputs <= set(ACTION["outputs"])
    hook = yaml.safe_load([b for b in blocks if "repos:" in b][0])
    assert hook["repos"][0]["hooks"][0]["id"] == HOOKS[0]["id"]
