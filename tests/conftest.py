"""Shared test helpers. Integration tests run the real CLI against a real OPA server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
NOW = "2026-11-25T00:00:00Z"
OPA_BIN = os.environ.get("OPA_BIN") or str(ROOT / ".bin" / "opa")


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m auditor ARGS` as a user would; returns the finished process (text mode)."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}  # table layout/colour
    full_env = {**inherited, "OPA_BIN": OPA_BIN, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd or ROOT, timeout=timeout,
    )


@pytest.fixture(scope="session")
def opa_server():
    """One real OPA server for the session (managed like the CLI does): (url, token)."""
    from auditor.engine.server import ManagedOpa

    with ManagedOpa(OPA_BIN) as server:
        yield server.url, server.token


@pytest.fixture()
def audit_json(opa_server, tmp_path):
    """Audit paths with the session's OPA and return (exit code, parsed JSON report, stderr)."""
    url, token = opa_server

    def audit(*paths: str | Path, extra: tuple[str, ...] = ()) -> tuple[int, dict, str]:
        out = tmp_path / "report.json"
        result = run_cli(
            "audit", *map(str, paths), "--format", "json", "-o", str(out), "--now", NOW,
            "--opa-url", url, "--opa-token-env", "TA_TEST_OPA_TOKEN", *extra,
            env={"TA_TEST_OPA_TOKEN": token},
        )
        report = json.loads(out.read_text()) if out.exists() else {}
        return result.returncode, report, result.stderr

    return audit


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def kept_admin(plan: dict) -> tuple[str, ...]:
    """The admin-rated permissions a plan keeps on purpose (a `keep` decision says why), named the way the
    registry names them: `secrets: write` -> `secrets:write`, `org.members.write on org acme` -> `org.members.write`,
    `access_level owner (50)` -> `access_level:owner`."""
    names = []
    for decision in plan["decisions"]:
        if decision["decision"] == "keep" and decision["rating"] == "admin":
            shown = decision["permission"]
            names.append("access_level:owner" if shown.startswith("access_level owner")
                         else shown.split(" on ")[0].replace(": ", ":"))
    return tuple(names)
