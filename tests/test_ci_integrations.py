"""CI integrations that work on the first run: the action and the workflows of docs/ci.md pass actionlint and
zizmor, every third-party action is pinned by SHA, the OPA and Python pins, the pre-commit hook on a repository
laid out like the docs (`pre-commit try-repo`), the licence, one version source, the Makefile's Python finder."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request

import pytest
import yaml

import auditor
from tests.conftest import FIXTURES, NOW, OPA_BIN, ROOT, run_cli

BIN = ROOT / ".bin"
ACTIONLINT = BIN / "actionlint"
ZIZMOR = os.path.join(os.path.dirname(sys.executable), "zizmor")
PRE_COMMIT = os.path.join(os.path.dirname(sys.executable), "pre-commit")
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def tool(path) -> str:
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} missing: `make setup` installs it (actionlint into .bin/, zizmor/pre-commit with .[dev])")
    return str(path)


@pytest.fixture()
def examples(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "ci_examples.py"), str(tmp_path)], check=True)
    subprocess.run(["git", "init", "-q", str(tmp_path / "local")], check=True)
    return tmp_path


def actionlint(project) -> subprocess.CompletedProcess:
    return subprocess.run([tool(ACTIONLINT), "-no-color"], cwd=project, capture_output=True, text=True, timeout=120)


def zizmor(*paths) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool(ZIZMOR), "--offline", "--no-progress", "--color", "never", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_action_and_documented_workflow_pass_actionlint_and_zizmor(examples):
    lint = actionlint(examples / "local")
    assert (lint.returncode, lint.stdout) == (0, "")
    audit = zizmor(ROOT / "action.yml", examples / ".github" / "workflows")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings to report. Good job!" in audit.stdout + audit.stderr


def test_the_linters_do_fail_on_what_they_check(examples):
    workflow = examples / "local" / ".github" / "workflows" / "token-audit.yml"
    text = workflow.read_text()
    broken = text.replace("fail-on: high", "fail-onn: high").replace(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1  # v7.0.1", "actions/checkout@v4"
    )
    assert broken != text
    workflow.write_text(broken)
    lint = actionlint(examples / "local")
    assert (
        lint.returncode == 1
        and 'input "fail-onn" is not defined in action "token-auditor" defined at "./"' in lint.stdout
    )
    audit = zizmor(workflow)
    assert audit.returncode != 0 and "unpinned-uses" in audit.stdout + audit.stderr


def uses_of(document) -> list[str]:
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "uses" and isinstance(value, str):
                found.append(value)
            else:
                found += uses_of(value)
    elif isinstance(document, list):
        for item in document:
            found += uses_of(item)
    return found


def test_every_third_party_action_is_pinned_by_commit_sha(examples):
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    workflow = yaml.safe_load((examples / ".github" / "workflows" / "token-audit.yml").read_text())
    uses = uses_of(action) + uses_of(workflow)
    assert sorted(u.split("@")[0] for u in uses) == [
        "OWNER/token-auditor",
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "github/codeql-action/upload-sarif",
        "open-policy-agent/setup-opa",
    ]
    assert [u for u in uses if not SHA_PIN.match(u)] == []
    assert "setup-go" not in (ROOT / "action.yml").read_text()


def test_opa_version_has_one_source(examples):
    pinned = (ROOT / ".opa-version").read_text()
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", pinned)
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    [setup_opa] = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith("open-policy-agent/setup-opa@")]
    assert setup_opa["with"] == {"version": "${{ steps.opa-version.outputs.version }}", "static": True}
    made = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "-p", "-n", "--no-print-directory", "clean"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"OPA_VERSION := v{pinned.strip()}" in made.stdout.splitlines()
    gitlab = yaml.safe_load((examples / ".gitlab-ci.yml").read_text())
    assert gitlab["token-audit"]["services"][0]["name"] == f"openpolicyagent/opa:{pinned.strip()}-static"
    assert "golang" not in gitlab["token-audit"]["image"]


def test_action_lock_pins_every_dependency_with_hashes():
    lock = (ROOT / "requirements" / "action.lock").read_text()
    pins = {
        re.sub(r"[-_.]+", "-", name): version
        for name, version in re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", lock, re.M)
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower())
        for d in project["project"]["dependencies"]
    ]
    assert [name for name in wanted if name not in pins] == []
    assert {"setuptools", "wheel"} <= set(pins)  # the editable install runs with --no-build-isolation
    entries = re.split(r"\n(?=[a-z0-9])", lock)
    unhashed = [e.split("==")[0] for e in entries if "==" in e and "--hash=sha256:" not in e]
    assert unhashed == []


def test_gitlab_way_an_opa_server_reached_by_url_runs_the_audit(tmp_path):
    """The GitLab example's engine: an OPA server (there the official image as a service) and --opa-url."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [OPA_BIN, "run", "--server", f"--addr=127.0.0.1:{port}", "--disable-telemetry"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        result = run_cli(
            "audit",
            str(FIXTURES / "huggingface"),
            "--now",
            NOW,
            "--opa-url",
            f"http://127.0.0.1:{port}",
            "-q",
            "--fail-on",
            "critical",
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("gate: FAIL (fail-on critical): ")


def sample_repository(root):
    """A repository laid out like the docs: exports/orgs/ORG/, exports/gitlab/, inventories/, a root file."""
    layout = {
        "exports/orgs/acme-labs/personal-access-tokens.json": "github/orgs/acme-labs/personal-access-tokens.json",
        "exports/acme-corp.json": "github/acme-corp.json",
        "exports/gitlab/gitlab-example.json": "gitlab/gitlab-example.json",
        "inventories/org-export.yaml": "huggingface/org-export.yaml",
        "inventories/user-export.yaml": "huggingface/user-export.yaml",
        "token-inventory.yaml": "neutral/package-registries.yaml",
    }
    for target, source in layout.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / source, root / target)
    others = {
        "package.json": '{"name": "app"}\n',
        ".token-auditor/waivers.yaml": "waivers: []\n",
        "docs/notes.yaml": "a: 1\n",
        ".github/workflows/ci.yml": "on: push\n",
    }
    for name, text in others.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return sorted(layout)


def test_pre_commit_try_repo_audits_every_inventory_of_the_readme_layout(tmp_path):
    repo = tmp_path / "sample"
    repo.mkdir()
    inventories = sample_repository(repo)
    # Offline: the hook's own venv install needs PyPI, so the hook is pointed at this Python (the hook's
    # documented $TOKEN_AUDITOR_PYTHON), through a wrapper that records which files the hook was given.
    calls = tmp_path / "calls.txt"
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{calls}"\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "PRE_COMMIT_HOME")}
    env.update(
        {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "TOKEN_AUDITOR_PYTHON": str(wrapper), "OPA_BIN": OPA_BIN}
    )
    result = subprocess.run(
        [tool(PRE_COMMIT), "try-repo", str(ROOT), "token-auditor", "--all-files", "--verbose"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert re.search(r"^token-auditor \(audit changed token inventories\)\.+Failed$", out, re.M), out
    given = calls.read_text().splitlines()
    assert sorted(a for a in given if a.endswith((".json", ".yaml", ".yml"))) == inventories
    assert "40 tokens (36 audited, 4 skipped; 1 other item skipped, not a token)" in out
    assert re.search(r"^gate: FAIL \(fail-on high\): ", out, re.M)


def test_licence_changelog_and_one_version_source():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.split("\n")[1].strip() == "Apache License" and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and "version" not in project and project["dynamic"] == ["version"]
    assert importlib.metadata.version("token-auditor") == auditor.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{auditor.__version__}]" in changelog


def test_makefile_finds_a_python_of_311_or_later(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    # python3 and python3.11 here are too old (their version check exits 1); python3.12 runs this Python
    for name, target in (("python3", None), ("python3.11", None), ("python3.12", sys.executable)):
        script = fake / name
        script.write_text(f'#!/bin/sh\nexec "{target}" "$@"\n' if target else "#!/bin/sh\nexit 1\n")
        script.chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "HOME": str(tmp_path)}
    venv = tmp_path / "venv"
    make = shutil.which("make")
    none = subprocess.run(
        [make, "-C", str(ROOT), f"VENV={venv}", "PYTHON_CANDIDATES=python3 python3.11", f"{venv}/.installed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert none.returncode == 2
    assert (
        "need Python 3.11 or later: none of python3 python3.11 on PATH is; install one or run "
        "make PYTHON=/path/to/python3.X"
    ) in none.stdout
    old = subprocess.run(
        [make, "-C", str(ROOT), f"VENV={venv}", f"PYTHON={fake / 'python3'}", f"{venv}/.installed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert old.returncode == 2 and f"need Python 3.11 or later: {fake / 'python3'} is" in old.stdout
    found = subprocess.run(
        [make, "-n", "-C", str(ROOT), f"VENV={venv}", f"{venv}/.installed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"python3.12 -m venv {venv}" in found.stdout
