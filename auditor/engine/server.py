"""A private OPA server for one run: loopback only, random port, bearer token, always stopped.

The server admits only the token made for this run (system.authz). It dies with us: stopped on
normal exit, errors, Ctrl-C and SIGTERM, and by PR_SET_PDEATHSIG if we are killed outright.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO

import requests

from auditor.errors import EngineError

# Only the token's SHA-256 is written: a file left behind (SIGKILL) holds nothing that opens the server.
_AUTHZ = """package system.authz

default allow := false

allow if crypto.sha256(input.identity) == "{digest}"
"""
WORKDIR_PREFIX = "token-auditor-opa-"
_PR_SET_PDEATHSIG = 1


# Go's collector lets OPA's heap grow to twice what is live (GOGC=100): with two 2,000-token chunks in flight
# the server reached 530-800 MiB, and the tree of a 100k-token streamed audit up to 1.2 GiB. A soft limit of 500 MiB
# caps it (tree ~800 MiB) at the CPU of the defaults within measurement noise; GOGC above 100 or off saved no CPU
# under a limit this tight (docs/benchmark.md, "Go runtime settings of the managed OPA"). A user who sets GOGC or
# GOMEMLIMIT keeps both as set.
GO_RUNTIME_DEFAULTS = {"GOMEMLIMIT": "500MiB"}


def opa_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The managed OPA's environment: ours, with GO_RUNTIME_DEFAULTS unless GOGC or GOMEMLIMIT is set."""
    env = dict(environ)
    if not (env.get("GOGC") or env.get("GOMEMLIMIT")):
        env.update(GO_RUNTIME_DEFAULTS)
    return env


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


# A directory named without a pid (made by versions before the pid was in the name: WORKDIR_PREFIX and
# tempfile's 8 random characters, with an authz.rego holding a plain token) is removed once nothing runs in it
# and it is this old: the time between making it and its server starting is far shorter.
LEGACY_WORKDIR_AGE = 3600.0


def remove_stale_workdirs(root: str | None = None) -> None:
    """Remove work directories of earlier runs whose process is gone (killed outright: SIGKILL, power loss)."""
    root = root or tempfile.gettempdir()
    try:
        entries = os.scandir(root)
    except OSError:
        return
    with entries:
        for entry in entries:
            if not entry.name.startswith(WORKDIR_PREFIX):
                continue
            pid, dash, _ = entry.name[len(WORKDIR_PREFIX) :].partition("-")
            try:
                if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                    continue
                if dash and pid.isdigit():
                    if _alive(int(pid)):
                        continue
                elif not _legacy_unused(entry.path, entry.stat(follow_symlinks=False).st_mtime):
                    continue
            except OSError:
                continue
            shutil.rmtree(entry.path, ignore_errors=True)


def _legacy_unused(path: str, modified: float) -> bool:
    """No process works in `path` (its OPA server ran there) and it is older than LEGACY_WORKDIR_AGE. Without
    /proc to ask, it stays."""
    if time.time() - modified < LEGACY_WORKDIR_AGE or not os.path.isdir("/proc/self"):
        return False
    real = os.path.realpath(path)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:  # gone, or another user's (who cannot work in a directory of ours)
            continue
        if cwd == real or cwd.startswith(real + os.sep):
            return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ManagedOpa:
    """`opa run --server` on 127.0.0.1 for the length of a `with` block."""

    def __init__(self, binary: str, startup_timeout: float = 30.0, policy_dir: Path | None = None):
        self.binary = binary
        # Policies given at start are compiled once; loaded over REST, every PUT recompiles all modules
        # (about 30 compiles). When they do not start (compile error), we start bare and the caller
        # loads them over REST, which names the failing file and line.
        self.policy_dir = policy_dir
        self.preloaded = False
        self.startup_timeout = startup_timeout
        self.token = secrets.token_urlsafe(32)
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._previous_sigterm: Callable[[int, FrameType | None], Any] | int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ManagedOpa:
        try:
            self._previous_sigterm = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, self._on_sigterm)
        except ValueError:  # not the main thread: the caller owns signals
            self._previous_sigterm = None
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _on_sigterm(self, signum, frame):
        self.stop()
        raise SystemExit(128 + signum)

    def _bundle(self, workdir: Path) -> list[str]:
        """The engine's modules and data documents, copied as `token-auditor/<relative path>` so module
        ids match those of a REST load."""
        from auditor.engine.client import POLICY_PREFIX, data_files, policy_files

        if self.policy_dir is None or not self.policy_dir.is_dir():
            return []
        files = [*policy_files(self.policy_dir), *data_files(self.policy_dir)]
        if not any(f.suffix == ".rego" for f in files):
            return []
        root = workdir / POLICY_PREFIX
        for path in files:
            target = root / path.relative_to(self.policy_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return [POLICY_PREFIX]

    def start(self) -> None:
        remove_stale_workdirs()
        self._workdir = tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
        workdir = Path(self._workdir.name)
        authz = workdir / "authz.rego"
        authz.write_text(_AUTHZ.format(digest=hashlib.sha256(self.token.encode()).hexdigest()))
        authz.chmod(0o600)
        bundle = self._bundle(workdir)
        if bundle:
            if self._launch(workdir, authz, bundle, attempts=1)[0]:
                self.preloaded = True
                return
            self._terminate()
        ready, last_error = self._launch(workdir, authz, [])
        if not ready:
            self._terminate()
            raise EngineError(f"OPA server failed to start: {last_error}")

    def _launch(self, workdir: Path, authz: Path, extra: list[str], attempts: int = 3) -> tuple[bool, str]:
        last_error = "did not start"
        for _ in range(attempts):  # another process may take the port between pick and bind
            self.port = _free_port()
            log = open(workdir / "opa.log", "w+b")
            self.process = process = subprocess.Popen(
                [
                    self.binary,
                    "run",
                    "--server",
                    "--disable-telemetry",
                    "--addr",
                    f"127.0.0.1:{self.port}",
                    "--authentication=token",
                    "--authorization=basic",
                    "--log-level",
                    "error",
                    str(authz),
                    *extra,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=workdir,
                env=opa_environment(os.environ),
                preexec_fn=_die_with_parent,
            )
            ready, last_error = self._wait_ready(process, log)
            log.close()
            if ready:
                return True, ""
            self._terminate()
        return False, last_error

    def _wait_ready(self, process: subprocess.Popen, log: BinaryIO) -> tuple[bool, str]:
        deadline = time.monotonic() + self.startup_timeout
        headers = {"Authorization": f"Bearer {self.token}"}
        with requests.Session() as session:
            session.trust_env = False  # loopback: no proxy or CA bundle from the environment applies
            return self._poll_health(process, session, headers, log, deadline)

    def _poll_health(
        self, process: subprocess.Popen, session: requests.Session, headers: dict, log: BinaryIO, deadline: float
    ) -> tuple[bool, str]:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                lines = log.read().decode(errors="replace").strip().splitlines()
                return False, (lines[-1] if lines else f"exited with {process.returncode}")[:300]
            try:
                if session.get(f"{self.url}/health", headers=headers, timeout=1).status_code == 200:
                    return True, ""
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False, f"no healthy answer within {self.startup_timeout:.0f}s"

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def stop(self) -> None:
        self._terminate()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None
