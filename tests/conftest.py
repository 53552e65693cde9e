"""Shared test helpers. Integration tests run the real CLI against a real OPA server.

Every child process gets an allowlisted environment and default SIGINT/SIGTERM handling, so the suite
behaves the same whatever the caller's shell holds (proxies, CA bundles, TOKEN_AUDITOR_OPA_URL, an
ignored SIGINT inherited from nohup or a CI runner).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Fuzzing profiles (tests/test_fuzz_*.py): the default keeps `make test` short and reproducible; `pytest
# --hypothesis-profile=long` searches deeper. No example database: tests never write into the checkout.
_SLOW_OK = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
]
settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile(
    "long", max_examples=400, deadline=None, database=None, print_blob=True, suppress_health_check=_SLOW_OK
)
settings.load_profile("default")  # --hypothesis-profile NAME, read after this file, loads another
# hypothesis caches (constants, unicode tables) in its home, ./.hypothesis unless told otherwise
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "token-auditor-hypothesis"))

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
NOW = "2026-11-25T00:00:00Z"
OPA_BIN = os.environ.get("OPA_BIN") or str(ROOT / ".bin" / "opa")

# What a child may inherit; anything else must be passed explicitly.
ENV_ALLOWED = ("PATH", "HOME", "LANG", "LANGUAGE", "TMPDIR", "CHROMIUM")
# Variables that change how the product or requests behave; never inherited by in-process test code either.
ENV_HOSTILE = (
    "TOKEN_AUDITOR_OPA_URL",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
for _name in ENV_HOSTILE:
    os.environ.pop(_name, None)  # the in-process health checks of the session's OPA must not use a proxy


def child_env(extra: dict | None = None) -> dict:
    """The allowlisted environment for a child process, plus explicit additions."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOWED or k.startswith("LC_")}
    env.setdefault("PATH", os.defpath)
    env["OPA_BIN"] = OPA_BIN
    env.update(extra or {})
    return env


def default_signals() -> None:
    """preexec_fn: undo an inherited SIG_IGN, so Ctrl-C and SIGTERM reach the child as a user's would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run(argv: list[str], env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """subprocess.run with the allowlisted environment and default signals."""
    return subprocess.run(argv, env=child_env(env), preexec_fn=default_signals, **kw)


def popen(argv: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    """subprocess.Popen with the allowlisted environment and default signals."""
    return subprocess.Popen(argv, env=child_env(env), preexec_fn=default_signals, **kw)


def read_pty(main_fd: int, process: subprocess.Popen, timeout: float = 120) -> str:
    """Everything the child wrote to the pseudo-terminal until it closed it (kills it after `timeout` s of silence);
    closes main_fd."""
    import select

    chunks = []
    try:
        while True:
            ready, _, _ = select.select([main_fd], [], [], timeout)
            if not ready:
                process.kill()
                raise AssertionError(f"the CLI wrote nothing to the terminal for {timeout:.0f} s")
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main_fd)
    return b"".join(chunks).decode()


def run_cli(
    *args: str, stdin: str | None = None, env: dict | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run `python -m auditor ARGS` as a user would; returns the finished process (text mode)."""
    return run(
        [sys.executable, "-m", "auditor", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def _new_files() -> set[str]:
    """Untracked and ignored paths of the checkout, Python's and pytest's own caches aside."""
    if not (ROOT / ".git").exists():
        return set()
    status = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--ignored"],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {
        line[3:]
        for line in status.splitlines()
        if line[:2] in ("??", "!!")
        and "__pycache__" not in line
        and not line[3:].startswith((".pytest_cache", ".venv", ".bin"))
    }


@pytest.fixture(scope="session", autouse=True)
def checkout_stays_clean():
    """Tests write into temp dirs only: nothing new may appear in the checkout (build/, .cache/, .hypothesis/)."""
    before = _new_files()
    yield
    written = _new_files() - before
    assert not written, f"tests wrote into the checkout: {sorted(written)}"


@pytest.fixture(scope="session")
def opa_server():
    """One real OPA server for the session (managed like the CLI does): (url, token)."""
    from auditor.engine.server import ManagedOpa

    with ManagedOpa(OPA_BIN) as server:
        yield server.url, server.token


@pytest.fixture(scope="session")
def github_fixture_report(tmp_path_factory) -> dict:
    """`audit fixtures/github --fail-on never -f json` with a managed OPA, once per session: tests edit copies."""
    out = tmp_path_factory.mktemp("github-report") / "report.json"
    result = run_cli(
        "audit", str(FIXTURES / "github"), "--now", NOW, "--fail-on", "never", "-f", "json", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def demo_audit(opa_server, tmp_path_factory) -> Path:
    """The demo fixtures audited once per session with the session's OPA (r.json), and rendered by `report`
    (r.html): the folder holding both. Tests only read these files."""
    url, token = opa_server
    out = tmp_path_factory.mktemp("demo")
    result = run_cli(
        "audit",
        str(FIXTURES),
        "-f",
        "json",
        "-o",
        str(out / "r.json"),
        "--now",
        NOW,
        "--fail-on",
        "never",
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_T",
        env={"TA_T": token},
    )
    assert result.returncode == 0, result.stderr
    result = run_cli("report", str(out / "r.json"), "-f", "html", "-o", str(out / "r.html"))
    assert result.returncode == 0, result.stderr
    return out


def audit_to_json(
    opa_server: tuple[str, str], folder: Path, *paths: str | Path, extra: tuple[str, ...] = ()
) -> tuple[int, dict, str]:
    """Audit paths with the session's OPA into folder/report.json: (exit code, parsed JSON report, stderr)."""
    url, token = opa_server
    out = folder / "report.json"
    result = run_cli(
        "audit",
        *map(str, paths),
        "--format",
        "json",
        "-o",
        str(out),
        "--now",
        NOW,
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_TEST_OPA_TOKEN",
        *extra,
        env={"TA_TEST_OPA_TOKEN": token},
    )
    report = json.loads(out.read_text()) if out.exists() else {}
    return result.returncode, report, result.stderr


@pytest.fixture()
def audit_json(opa_server, tmp_path):
    """Audit paths with the session's OPA and return (exit code, parsed JSON report, stderr)."""

    def audit(*paths: str | Path, extra: tuple[str, ...] = ()) -> tuple[int, dict, str]:
        return audit_to_json(opa_server, tmp_path, *paths, extra=extra)

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
            names.append(
                "access_level:owner"
                if shown.startswith("access_level owner")
                else shown.split(" on ")[0].replace(": ", ":")
            )
    return tuple(names)
