"""An OPA fleet: several real `opa run --server` on 127.0.0.1 loading the bundle `token-auditor bundle` built,
from a local bundle service (Python's http.server), through OPA's services/bundles configuration."""

from __future__ import annotations

import functools
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from conftest import FIXTURES, NOW, OPA_BIN, ROOT

# Children see only this environment: no proxy, CA bundle or other setting of the caller's.
CLEAN_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OPA_BIN": OPA_BIN}
SCRIPTS = ROOT / "scripts"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**CLEAN_ENV, "HOME": os.environ.get("HOME", "/tmp")},
        timeout=timeout,
    )


def free_port() -> int:
    from auditor.engine.server import _free_port

    return _free_port()


def build_bundle(directory: Path, name: str = "policies.tar.gz", policy_dir: Path | None = None) -> str:
    """What `token-auditor bundle -o DIRECTORY/NAME` writes (tests/test_bundle.py runs the command), in-process."""
    from auditor.engine.bundle import build_bundle as build

    data, revision = build(policy_dir or ROOT / "policies", OPA_BIN)
    (directory / name).write_bytes(data)
    return revision


class BundleService:
    """A directory served over HTTP on 127.0.0.1, in this process."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class OpaServer:
    """`opa run --server` that downloads one bundle from the bundle service; decision logs on its stderr."""

    def __init__(self, work: Path, service: str, resource: str, name: str, keys: str = ""):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = work / f"{name}.yaml"
        config.write_text(
            f"services:\n  bundles:\n    url: {service}\n"
            f"bundles:\n  token-auditor:\n    service: bundles\n    resource: {resource}\n"
            f"    polling: {{min_delay_seconds: 300, max_delay_seconds: 600}}\n{keys}"
            "decision_logs:\n  console: true\n"
        )
        self.decisions = 0
        self.errors: list[str] = []
        self.error_logged = threading.Event()
        self.first_decision = threading.Event()
        self.on_first_decision = None
        self.process = subprocess.Popen(
            [
                OPA_BIN,
                "run",
                "--server",
                "--disable-telemetry",
                "--addr",
                f"127.0.0.1:{self.port}",
                "--config-file",
                str(config),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=CLEAN_ENV,
            cwd=work,
        )
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        for line in self.process.stderr:
            if b'"level":"error"' in line:
                self.errors.append(line.decode(errors="replace"))
                self.error_logged.set()
            if b'"Decision Log"' in line and b"token_auditor/main/findings" in line:
                self.decisions += 1
                if self.on_first_decision and not self.first_decision.is_set():
                    self.on_first_decision(self)
                self.first_decision.set()

    def wait_bundle(self, timeout: float = 30) -> bool:
        """True once the bundle is activated (/health?bundles answers 200)."""
        deadline = time.monotonic() + timeout
        with requests.Session() as session:
            session.trust_env = False
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if session.get(f"{self.url}/health?bundles", timeout=1).status_code == 200:
                        return True
                except requests.RequestException:
                    pass
                time.sleep(0.05)
        return False

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture()
def fleet(tmp_path):
    """start(resource, n) -> [OpaServer] with their bundle activated; stopped at the end."""
    served = tmp_path / "served"
    served.mkdir()
    service = BundleService(served)
    started: list[OpaServer] = []

    def start(resource: str, count: int, keys: str = "", ready: bool = True) -> list[OpaServer]:
        servers = [OpaServer(tmp_path, service.url, resource, f"opa-{len(started) + i}", keys) for i in range(count)]
        started.extend(servers)
        if ready:
            for server in servers:
                assert server.wait_bundle(), f"{server.url} did not activate {resource}"
        return servers

    start.served = served
    start.work = tmp_path
    try:
        yield start
    finally:
        for server in started:
            server.stop()
        service.close()


def generated_inventory(path: Path, tokens: int, seed: int) -> Path:
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "generate_inventory.py"),
            "--tokens",
            str(tokens),
            "--seed",
            str(seed),
            "-o",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=CLEAN_ENV,
    )
    assert result.returncode == 0, result.stderr
    return path


def audit_report(out: Path, inputs: list[str], *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = cli("audit", *inputs, "--format", "json", "-o", str(out), "--now", NOW, "--fail-on", "never", *extra)
    return result, (json.loads(out.read_text()) if out.exists() else {})


def _findings_bytes(report: dict) -> bytes:
    return json.dumps(report["findings"], sort_keys=True, ensure_ascii=False).encode()


def test_fleet_survives_a_server_killed_mid_run_with_single_server_findings(fleet, tmp_path):
    generated = generated_inventory(tmp_path / "hf-240.json", 240, 12)
    inputs = [str(FIXTURES), str(generated)]
    single, reference = audit_report(tmp_path / "single.json", inputs, "--chunk-size", "4")
    assert single.returncode == 0, single.stderr

    build_bundle(fleet.served)
    servers = fleet("policies.tar.gz", 3)
    victim = servers[0]
    victim.on_first_decision = lambda server: server.kill()  # right after it answered its first chunk
    urls = [arg for server in servers for arg in ("--opa-url", server.url)]
    started = time.monotonic()
    result, report = audit_report(tmp_path / "fleet.json", inputs, "--chunk-size", "4", "--workers", "2", *urls)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 180  # a hang guard, not a speed measurement

    assert victim.process.returncode == -signal.SIGKILL
    assert victim.decisions in (1, 2)  # killed at its first answer; with --workers 2 a second may be logged too
    assert f"warning: OPA at {victim.url} is unreachable while evaluating tokens; leaving it out" in result.stderr
    assert servers[1].decisions > 0 and servers[2].decisions > 0
    # Nothing lost, nothing twice: the same findings, byte for byte, as one managed server gave.
    assert _findings_bytes(report) == _findings_bytes(reference)
    assert report["summary"] == reference["summary"]
    assert (report["summary"]["audited"], report["summary"]["findings"]) == (274, 595)
    assert report["engine"]["mode"] == "remote"
    # 274 tokens in chunks of 4 are 69 chunks. The victim logged its answers; killed at that moment, it may not
    # have sent them, so the other two evaluated the rest, or all 69.
    assert 69 - victim.decisions <= servers[1].decisions + servers[2].decisions <= 69


def test_endpoints_serving_different_revisions_exit_3_naming_them(fleet, tmp_path):
    revision = build_bundle(fleet.served)
    changed = tmp_path / "changed-policies"
    shutil.copytree(ROOT / "policies", changed)
    legacy = changed / "checks" / "legacy_token" / "legacy_token.rego"
    legacy.write_text(legacy.read_text() + "\n# a local edit\n")
    other = build_bundle(fleet.served, "changed.tar.gz", changed)
    assert other != revision and other.split("-")[0] == revision.split("-")[0]
    (same,) = fleet("policies.tar.gz", 1)
    (different,) = fleet("changed.tar.gz", 1)

    result = cli("audit", str(FIXTURES), "--now", NOW, "--opa-url", same.url, "--opa-url", different.url)
    assert result.returncode == 3, result.stderr
    line = result.stderr.strip()
    assert line.startswith("token-auditor: error: OPA endpoints serve different policy bundle revisions")
    assert f"{same.url}: {revision}" in line and f"{different.url}: {other}" in line
    assert len(result.stderr.strip().splitlines()) == 1

    # One revision everywhere, but not the one of --policy-dir: also exit 3, naming both.
    stale = cli("audit", str(FIXTURES), "--now", NOW, "--opa-url", different.url)
    assert stale.returncode == 3
    assert f"OPA endpoints serve policy bundle revision {other}, but" in stale.stderr
    assert f"is revision {revision}" in stale.stderr
    # ...and accepted when --policy-dir is what the bundle was built from.
    ok = cli(
        "audit",
        str(FIXTURES),
        "--now",
        NOW,
        "--fail-on",
        "never",
        "--opa-url",
        different.url,
        "--policy-dir",
        str(changed),
    )
    assert ok.returncode == 0, ok.stderr


def test_endpoint_file_and_a_fleet_without_bundle(fleet, tmp_path):
    build_bundle(fleet.served)
    servers = fleet("policies.tar.gz", 2)
    endpoints = tmp_path / "endpoints.txt"
    endpoints.write_text(f"# the audit fleet\n{servers[0].url}\n\n{servers[1].url}/  # second replica\n")
    result, report = audit_report(tmp_path / "r.json", [str(FIXTURES)], "--opa-url", f"@{endpoints}")
    assert result.returncode == 0, result.stderr
    assert (report["summary"]["audited"], report["summary"]["findings"]) == (40, 56)
    assert servers[0].decisions + servers[1].decisions == 1  # 36 tokens: one chunk of 2000

    twice = tmp_path / "twice.txt"
    twice.write_text(f"{servers[0].url}\n{servers[0].url}/\n")
    refused = cli("audit", str(FIXTURES), "--opa-url", f"@{twice}")
    assert refused.returncode == 2
    assert f"{twice}:2: {servers[0].url}/ is listed twice (first at {twice}:1)" in refused.stderr

    missing = cli("audit", str(FIXTURES), "--opa-url", f"@{tmp_path / 'nope.txt'}")
    assert missing.returncode == 2 and "nope.txt: no such file" in missing.stderr

    # Two bare servers (no bundle): a fleet evaluates one bundle, so this is refused, not loaded by PUT.
    bare = [
        subprocess.Popen(
            [OPA_BIN, "run", "--server", "--disable-telemetry", "--addr", f"127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=CLEAN_ENV,
        )
        for port in (free_port(), free_port())
    ]
    try:
        urls = [f"http://127.0.0.1:{p.args[-1].rsplit(':', 1)[1]}" for p in bare]
        for url in urls:
            _wait_health(url)
        none = cli("audit", str(FIXTURES), "--opa-url", urls[0], "--opa-url", urls[1])
        assert none.returncode == 3
        assert "none of the 2 OPA endpoints serves a token-auditor policy bundle" in none.stderr
    finally:
        for process in bare:
            process.terminate()
            process.wait(timeout=10)


def _wait_health(url: str) -> None:
    with requests.Session() as session:
        session.trust_env = False
        for _ in range(200):
            try:
                if session.get(f"{url}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
    raise AssertionError(f"{url} not healthy")


class FaultProxy:
    """HTTP in front of one real OPA: records every request; the first evaluation gets `fault`
    (an HTTP status to answer instead, or seconds to stall before answering)."""

    def __init__(self, upstream_port: int, fault: int | float | None):
        self.requests: list[tuple[str, str]] = []
        self.fault = fault
        self.faulted = 0
        self.in_flight = self.peak_in_flight = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                evaluation = self.path.startswith("/v1/data/token_auditor/main/findings")
                if evaluation:
                    with proxy.lock:
                        proxy.in_flight += 1
                        proxy.peak_in_flight = max(proxy.peak_in_flight, proxy.in_flight)
                try:
                    self._relay()
                finally:
                    if evaluation:
                        with proxy.lock:
                            proxy.in_flight -= 1

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append((self.command, self.path))
                if (
                    self.path.startswith("/v1/data/token_auditor/main/findings")
                    and proxy.fault is not None
                    and not proxy.faulted
                ):
                    proxy.faulted += 1
                    if isinstance(proxy.fault, int):
                        payload = b'{"code":"unavailable","message":"injected"}'
                        self.send_response(proxy.fault)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                    time.sleep(proxy.fault)
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                upstream.request(
                    self.command,
                    self.path,
                    body=body,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                )
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "fault, message",
    [
        (503, "HTTP 503"),
        (6.0, "did not answer within 3s while evaluating tokens (--opa-timeout)"),
    ],
)
def test_a_chunk_failing_on_one_endpoint_is_retried_on_another(fleet, tmp_path, fault, message):
    build_bundle(fleet.served)
    servers = fleet("policies.tar.gz", 2)
    proxies = [FaultProxy(servers[0].port, fault), FaultProxy(servers[1].port, None)]
    try:
        single, reference = audit_report(
            tmp_path / "single.json", [str(FIXTURES)], "--opa-url", servers[1].url, "--chunk-size", "3"
        )
        assert single.returncode == 0, single.stderr
        result, report = audit_report(
            tmp_path / "fleet.json",
            [str(FIXTURES)],
            "--chunk-size",
            "3",
            "--workers",
            "1",
            "--opa-timeout",
            "3",
            "--opa-url",
            proxies[0].url,
            "--opa-url",
            proxies[1].url,
        )
        assert result.returncode == 0, result.stderr
        assert _findings_bytes(report) == _findings_bytes(reference)
        assert proxies[0].faulted == 1
        assert [proxy.peak_in_flight for proxy in proxies] == [1, 1]  # --workers 1: one request at a time each
        # A fleet serving a bundle is never sent a policy or a data document.
        methods = {method for proxy in proxies for method, _ in proxy.requests}
        assert methods <= {"GET", "POST"}, methods
        evaluated = sum(
            path.startswith("/v1/data/token_auditor/main/findings") for proxy in proxies for _, path in proxy.requests
        )
        # 40 tokens in chunks of 3: 14 chunks, plus one retry of the chunk that failed
        assert evaluated == 15
        if isinstance(fault, float):
            assert message in result.stderr  # the hung endpoint is left out, with a warning
    finally:
        for proxy in proxies:
            proxy.close()


def test_every_endpoint_failing_a_chunk_exits_3(fleet, tmp_path):
    build_bundle(fleet.served)
    (server,) = fleet("policies.tar.gz", 1)
    proxies = [FaultProxy(server.port, 502), FaultProxy(server.port, 502)]
    try:
        # Each proxy fails its first evaluation; chunk 1 goes to both and fails on both.
        result = cli(
            "audit",
            str(FIXTURES),
            "--now",
            NOW,
            "--workers",
            "1",
            "--chunk-size",
            "2000",
            "--opa-url",
            proxies[0].url,
            "--opa-url",
            proxies[1].url,
        )
        assert result.returncode == 3
        assert result.stderr.startswith("token-auditor: error: OPA at http://127.0.0.1:")
        assert "OPA evaluation error while evaluating tokens (HTTP 502): injected" in result.stderr
        assert result.stderr.count("\n") == 1
    finally:
        for proxy in proxies:
            proxy.close()


def test_the_revision_is_taken_from_the_bundle_that_holds_the_entry_point():
    from auditor.engine.fleet import our_revision

    authz = {"roots": ["system/authz"], "revision": "authz-7"}
    assert (
        our_revision({"authz": authz, "audit": {"roots": ["checks", "lib", "token_auditor"], "revision": "r1"}}) == "r1"
    )
    assert our_revision({"audit": {"roots": ["token_auditor/main"], "revision": "r2"}}) == "r2"
    assert our_revision({"everything": {"roots": [""], "revision": "r3"}}) == "r3"
    assert our_revision({"everything": {"revision": "r4"}}) == "r4"  # no roots: the bundle owns all of data
    assert our_revision({"authz": authz}) is None
    assert our_revision({"other": {"roots": ["token_auditor/other"], "revision": "r5"}}) is None
    assert our_revision({}) is None
