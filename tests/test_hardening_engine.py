"""Issue 9 items 3, 5, 6 and 14: a slow, lying or impostor OPA ends the run with exit 3 and one line; the managed
OPA ignores proxy and CA variables and leaves no bearer token on disk."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import FIXTURES, NOW, OPA_BIN, ROOT, run_cli

INVENTORY = str(FIXTURES / "huggingface" / "org-export.yaml")
FINDINGS = "/v1/data/token_auditor/main/findings"


class FakeOpa:
    """A local stand-in for a remote OPA that answers what a test tells it to (never the real engine)."""

    def __init__(self, findings=None, put=None, tls: ssl.SSLContext | None = None, health=None, host="127.0.0.1"):
        self.health = health
        self.findings = findings if findings is not None else (200, {"result": []})
        self.put = put
        self.seen: list[str] = []
        self.stop = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status: int, body) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _drain(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)

            def do_GET(self):
                owner.seen.append(f"GET {self.path}")
                if owner.health == "drip":
                    self._drip()
                    return
                self._answer(200, {})

            def _drip(self) -> None:  # headers, then one byte of body every 0.2 s, forever
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    while not owner.stop.wait(0.2):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                except OSError:
                    pass

            def do_PUT(self):
                self._drain()
                owner.seen.append(f"PUT {self.path}")
                if owner.put is not None:
                    self._answer(*owner.put)
                elif self.path.startswith("/v1/data/"):
                    self._answer(204, None)
                else:
                    self._answer(200, {})

            def do_POST(self):
                self._drain()
                owner.seen.append(f"POST {self.path}")
                if self.path == "/v1/query":
                    self._answer(200, {"result": [{"v": "fake"}]})
                    return
                behaviour = owner.findings
                if behaviour == "hang":
                    owner.stop.wait(120)
                    return
                if behaviour == "drip":
                    self._drip()
                    return
                self._answer(*behaviour)

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def audit_remote(url: str, *extra: str, env: dict | None = None, timeout: float = 120):
    return run_cli(
        "audit",
        INVENTORY,
        "--now",
        NOW,
        "--fail-on",
        "never",
        "-f",
        "json",
        "--opa-url",
        url,
        *extra,
        env=env,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "answer, problem",
    [
        ({"result": 5}, "/result: must be array"),
        ([{}], "/: list, not an object"),
        (
            {"result": [{"subject": 5}]},
            "/result/0: must contain ['message', 'rule_id'] properties",
        ),
        (
            {
                "result": [
                    {
                        "rule_id": "r",
                        "severity": "high",
                        "title": "t",
                        "subject": 5,
                        "message": "m",
                        "evidence": {},
                        "nhi": [],
                        "recommendation": {"action": "revoke"},
                    }
                ]
            },
            "/result/0/subject: must be object",
        ),
        (
            {
                "result": [{"rule_id": "stale-token", "subject": {"type": "token", "key": "k"}, "message": "m"}] * 2
                + [{"rule_id": "stale", "subject": {"type": "token", "key": "k"}, "message": "m"}]
            },
            "/result/2/rule_id: 'stale' is the id of no check in the policy directory",
        ),
    ],
)
def test_remote_opa_unexpected_answer_is_exit_3(answer, problem):
    with FakeOpa(findings=(200, answer)) as fake:
        result = audit_remote(fake.url)
    assert result.returncode == 3
    assert result.stderr == (
        f"token-auditor: error: OPA at {fake.url} answered POST {FINDINGS} with an unexpected shape: {problem}\n"
    )
    assert result.stdout == ""


def test_remote_opa_put_answering_a_list_is_exit_3():
    with FakeOpa(put=(200, [1, 2, 3])) as fake:
        result = audit_remote(fake.url)
    assert result.returncode == 3
    assert re.fullmatch(
        rf"token-auditor: error: OPA at {re.escape(fake.url)} answered PUT /v1/data/\S+ with an "
        r"unexpected shape: not an OPA error document\n",
        result.stderr,
    ), result.stderr


def test_remote_opa_error_list_body_is_exit_3():
    with FakeOpa(findings=(500, [1, 2, 3])) as fake:
        result = audit_remote(fake.url)
    assert result.returncode == 3
    assert result.stderr == (
        "token-auditor: error: OPA evaluation error while evaluating tokens (HTTP 500): [1, 2, 3]\n"
    )


@pytest.mark.parametrize("behaviour", ["drip", "hang"])
def test_slow_evaluation_times_out(behaviour):
    with FakeOpa(findings=behaviour) as fake:
        started = time.monotonic()
        result = audit_remote(fake.url, "--opa-timeout", "1", timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert result.stderr == (
        f"token-auditor: error: OPA at {fake.url} did not answer within 1s while evaluating tokens (--opa-timeout)\n"
    )
    assert elapsed < 30


def test_overall_deadline():
    with FakeOpa(health="drip") as fake:
        started = time.monotonic()
        result = audit_remote(fake.url, "--opa-timeout", "60", "--opa-deadline", "1.5", timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert result.stderr == (
        f"token-auditor: error: OPA at {fake.url} did not finish within the overall deadline of "
        "1.5s; stopped while checking /health (--opa-deadline)\n"
    )
    assert elapsed < 30


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(directory: Path, name: str) -> Path:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )
    return directory / f"{name}.pem"


def _server_cert(directory: Path, ca: str) -> tuple[Path, Path]:
    _openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=directory,
    )
    (directory / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,IP:127.0.0.2\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        f"{ca}.pem",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        cwd=directory,
    )
    return directory / "server.pem", directory / "server.key"


@pytest.fixture()
def two_cas(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available to make test certificates")
    ours = _make_ca(tmp_path, "ours")
    other = _make_ca(tmp_path, "other")
    cert, key = _server_cert(tmp_path, "other")  # the server is signed by the other CA
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return ours, other, context


def test_opa_ca_is_not_overridden_by_environment(two_cas):
    ours, other, context = two_cas
    env = {"REQUESTS_CA_BUNDLE": str(other), "CURL_CA_BUNDLE": str(other)}
    with FakeOpa(tls=context) as fake:
        url = f"https://127.0.0.1:{fake.port}"
        refused = audit_remote(url, "--opa-ca", str(ours), env=env)
        assert refused.returncode == 3
        assert refused.stderr == (
            f"token-auditor: error: OPA at {url} presented a certificate that --opa-ca does not "
            "trust while checking /health\n"
        )
        assert [s for s in fake.seen if not s.startswith("GET")] == []  # no policy, no inventory sent
        # Control: the CA that did sign the server is accepted when pinned, whatever the environment says.
        accepted = audit_remote(
            url, "--opa-ca", str(other), env={"REQUESTS_CA_BUNDLE": str(ours), "CURL_CA_BUNDLE": str(ours)}
        )
        assert (accepted.returncode, accepted.stderr) == (0, "")
        assert f"POST {FINDINGS}" in fake.seen


def test_opa_ca_is_pinned_for_a_host_that_is_not_loopback(two_cas):
    """127.0.0.2 is not treated as loopback, so the environment applies to it; its CA variables still cannot
    replace --opa-ca."""
    ours, other, context = two_cas
    with FakeOpa(tls=context, host="127.0.0.2") as fake:
        url = f"https://127.0.0.2:{fake.port}"
        refused = audit_remote(url, "--opa-ca", str(ours), env={"REQUESTS_CA_BUNDLE": str(other)})
        assert (refused.returncode, refused.stderr) == (
            3,
            f"token-auditor: error: OPA at {url} presented a certificate that --opa-ca does not "
            "trust while checking /health\n",
        )
        assert [s for s in fake.seen if not s.startswith("GET")] == []


DEAD_PROXY = "http://127.0.0.1:9"
HOSTILE_ENV = {
    "http_proxy": DEAD_PROXY,
    "https_proxy": DEAD_PROXY,
    "HTTP_PROXY": DEAD_PROXY,
    "HTTPS_PROXY": DEAD_PROXY,
    "ALL_PROXY": DEAD_PROXY,
    "no_proxy": "",
    "NO_PROXY": "",
    "REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem",
    "CURL_CA_BUNDLE": "/nonexistent/ca.pem",
}


def test_managed_opa_ignores_proxy_and_ca_variables(tmp_path):
    out = tmp_path / "report.json"
    result = run_cli(
        "audit",
        INVENTORY,
        "--now",
        NOW,
        "--fail-on",
        "never",
        "-f",
        "json",
        "-o",
        str(out),
        env={**HOSTILE_ENV, "TOKEN_AUDITOR_OPA_URL": ""},
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(out.read_text())["engine"]["mode"] == "managed"


def test_loopback_opa_url_ignores_proxy_variables():
    with FakeOpa() as fake:
        result = audit_remote(fake.url, env=HOSTILE_ENV)
    assert (result.returncode, result.stderr) == (0, "")
    assert f"POST {FINDINGS}" in fake.seen


def test_managed_authz_admits_only_its_token():
    from auditor.engine.server import ManagedOpa

    with ManagedOpa(OPA_BIN) as server:
        with requests.Session() as session:
            session.trust_env = False
            right = session.get(
                f"{server.url}/v1/data", headers={"Authorization": f"Bearer {server.token}"}, timeout=10
            )
            wrong = session.get(
                f"{server.url}/v1/data", headers={"Authorization": f"Bearer {server.token}x"}, timeout=10
            )
            none = session.get(f"{server.url}/v1/data", timeout=10)
    assert (right.status_code, wrong.status_code, none.status_code) == (200, 401, 401)


HOLDER = """
import sys, time
from auditor.engine.server import ManagedOpa
server = ManagedOpa(sys.argv[1]).__enter__()
print(server.token, server._workdir.name, server.pid, flush=True)
time.sleep(600)
"""


def test_sigkill_leaves_no_token_on_disk_and_next_run_cleans_up(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, OPA_BIN], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        token, workdir, opa_pid = holder.stdout.readline().split()
        assert Path(workdir).parent == temp and Path(workdir).name.startswith(f"token-auditor-opa-{holder.pid}-")
        authz = (Path(workdir) / "authz.rego").read_text()
        assert f'crypto.sha256(input.identity) == "{hashlib.sha256(token.encode()).hexdigest()}"' in authz
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    for _ in range(100):  # the server follows its parent (PR_SET_PDEATHSIG)
        try:
            os.kill(int(opa_pid), 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    left = [p for p in temp.rglob("*") if p.is_file()]
    assert left, "the killed run's directory should still be there before the next run"
    assert [p for p in left if token.encode() in p.read_bytes()] == []

    # The next run removes the directory of the dead process.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from auditor.engine.server import ManagedOpa\nimport sys\nwith ManagedOpa(sys.argv[1]): pass",
            OPA_BIN,
        ],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert sorted(p.name for p in temp.iterdir()) == []
