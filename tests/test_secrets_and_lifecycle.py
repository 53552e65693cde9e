"""Planted token values never leave the process; the managed OPA never outlives the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from conftest import NOW, ROOT, popen, run_cli, write_yaml

from auditor.redaction import contains_secret, redact_document, redact_text

# Fake values of real shapes: long enough to match the detectors, obviously not real.
PLANTED = {
    "hf": "hf_" + "FAKEfake0123456789" * 2,
    "org": "api_org_" + "FAKEfake0123456789" * 2,
    "github": "ghp_" + "FAKEfake0123456789" * 2,
    "gitlab": "glpat-" + "FAKEfake0123456789" * 2,
}


def _inventory(value: str, where: str) -> str:
    note = f'      note: "{value}"\n' if where == "note" else ""
    name = f'      name: "{value}"\n' if where == "name" else ""
    stored_key = value if where == "key" else "HF_TOKEN"
    return (
        "format: huggingface-inventory/v1\n"
        'collected_at: "2026-11-20T09:00:00Z"\n'
        "tokens:\n"
        "  - whoami: {auth: {type: access_token, accessToken: {displayName: ci, role: write}}}\n"
        "    inventory:\n"
        '      id: "64f0c0ffee0000000000b001"\n'
        "      owner: jdoe-ml\n"
        '      created_at: "2026-09-01T00:00:00Z"\n'
        '      last_used_at: "2026-11-20T00:00:00Z"\n'
        f"{note}{name}"
        f'      stored_in: [{{kind: github_actions_secret, location: acme/repo, key: "{stored_key}"}}]\n'
    )


def test_planted_values_never_appear_in_any_output(tmp_path):
    """Every detector's shape, planted in a free-text field, a name and a storage key."""
    placements = ["note", "name", "key", "note"]
    for index, (kind, where) in enumerate(zip(sorted(PLANTED), placements, strict=True)):
        text = _inventory(PLANTED[kind], where).replace("b001", f"b00{index + 2}")
        write_yaml(tmp_path / f"inv-{kind}.yaml", text)
    outputs = []
    for fmt in ("table", "json"):
        result = run_cli("audit", str(tmp_path), "--now", NOW, "--format", fmt)
        assert result.returncode == 1, result.stderr  # raw-secret-in-inventory is critical
        outputs += [result.stdout, result.stderr]
    normalized = run_cli("normalize", str(tmp_path), "--now", NOW)
    outputs += [normalized.stdout, normalized.stderr, run_cli("validate", str(tmp_path)).stderr]
    for value in PLANTED.values():
        for text in outputs:
            assert value not in text
            assert value[6:30] not in text  # not even a long piece of it
    report = json.loads(outputs[2])
    assert report["secrets_redacted"] == len(PLANTED)


def test_planted_value_in_error_messages_is_redacted(tmp_path):
    value = PLANTED["hf"]
    bad = _inventory(value, "none").replace("      owner: jdoe-ml\n", f'      owner: jdoe-ml\n      last4: "{value}"\n')
    path = write_yaml(tmp_path / "bad.yaml", bad)
    result = run_cli("audit", str(path), "--now", NOW)
    assert result.returncode == 2
    assert "/tokens/0/inventory/last4" in result.stderr
    assert value not in result.stderr and "REDACTED" in result.stderr
    dup = write_yaml(tmp_path / "dup.yaml", f'"{value}": 1\n"{value}": 2\n')
    result = run_cli("validate", str(dup))
    assert result.returncode == 2 and value not in result.stderr


def test_detector_ignores_prefixes_and_last_four():
    assert not contains_secret("hf_")
    assert not contains_secret("api_org_")
    assert not contains_secret("c90d")
    assert not contains_secret("hf_short123")
    assert contains_secret(f"token={PLANTED['hf']}")
    assert PLANTED["github"] not in redact_text(f"x {PLANTED['github']} y")


def test_redact_document_reports_pointer_and_masks():
    document = {"tokens": [{"inventory": {"note": f"see {PLANTED['hf']}"}}], PLANTED["org"]: "key"}
    cleaned, hits = redact_document(document, "f.yaml")
    assert PLANTED["hf"] not in json.dumps(cleaned) and PLANTED["org"] not in json.dumps(cleaned)
    assert sorted(h.pointer for h in hits)[1] == "/tokens/0/inventory/note"
    assert all(
        h.masked.endswith(v[-4:])
        for h, v in zip(sorted(hits, key=lambda h: h.prefix), [PLANTED["org"], PLANTED["hf"]], strict=True)
    )


# Lifecycle: no OPA process may outlive the CLI.


def _big_inventory(path, count=40000):
    tokens = [
        {
            "id": f"t{i}",
            "provider": "npm",
            "kind": "classic",
            "owner": f"u{i % 50}",
            "legacy": True,
            "scopes": ["publish"],
            "created_at": "2024-01-01T00:00:00Z",
            "last_used_at": None,
        }
        for i in range(count)
    ]
    path.write_text(json.dumps({"format": "token-inventory/v1", "collected_at": NOW, "tokens": tokens}))
    return path


def _wait_for_opa_child(process: subprocess.Popen, timeout: float = 60) -> psutil.Process:
    """The CLI's `opa run --server` child (not a short-lived `opa version`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            try:
                command = child.cmdline()
            except psutil.Error:  # exited (or exec'ing) between listing and asking
                continue
            if command and os.path.basename(command[0]) == "opa" and "run" in command[1:3]:
                return child
        time.sleep(0.05)
    raise AssertionError("the CLI never started an OPA server child")


@pytest.mark.parametrize(
    "sig,exit_code", [(signal.SIGKILL, -9), (signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["kill", "term", "int"]
)
def test_killed_cli_leaves_no_opa_process(tmp_path, sig, exit_code):
    path = _big_inventory(tmp_path / "big.json")
    process = popen(
        [
            sys.executable,
            "-m",
            "auditor",
            "audit",
            str(path),
            "--now",
            NOW,
            "-f",
            "json",
            "-o",
            str(tmp_path / "r.json"),
            "--chunk-size",
            "500",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    opa = _wait_for_opa_child(process)
    process.send_signal(sig)
    assert process.wait(timeout=90) == exit_code  # 128 + signal number, like a shell reports it
    try:
        opa.wait(timeout=30)
    except psutil.TimeoutExpired:
        opa.kill()
        raise AssertionError(f"OPA (pid {opa.pid}) outlived the CLI after {sig.name}") from None
    assert not opa.is_running() or opa.status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / "r.json").exists(), "a half-written report was left behind"
    if sig != signal.SIGKILL:
        stderr = process.stderr.read().decode()
        assert "Traceback" not in stderr
        if sig == signal.SIGINT:
            assert stderr == "token-auditor: error: interrupted\n"


def test_normal_exit_stops_opa(tmp_path):
    path = _big_inventory(tmp_path / "big.json", count=8000)
    process = popen(
        [
            sys.executable,
            "-m",
            "auditor",
            "audit",
            str(path),
            "--now",
            NOW,
            "-f",
            "json",
            "-o",
            str(tmp_path / "r.json"),
            "--fail-on",
            "never",
            "--chunk-size",
            "500",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    opa = _wait_for_opa_child(process)
    assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    try:
        opa.wait(timeout=1)
    except psutil.TimeoutExpired:
        raise AssertionError("OPA still runs after the CLI exited normally") from None
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["tokens"] == 8000


def test_escaped_and_newline_prefixed_values_are_redacted(tmp_path):
    """`\\u0067hp_…` and `…\\nghp_…` only look like tokens once parsed: the walk must still see them."""
    value = PLANTED["github"]
    escaped = "\\u0067" + value[1:]
    path = tmp_path / "inv.json"
    path.write_text(
        '{"format": "token-inventory/v1", "collected_at": "2026-11-20T09:00:00Z", "tokens": ['
        f'{{"id": "a", "provider": "npm", "owner": "o", "name": "{escaped}"}},'
        f'{{"id": "b", "provider": "npm", "owner": "o", "name": "note:\\n{value}"}}]}}'
    )
    result = run_cli("normalize", str(path), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert value not in result.stdout and value[4:30] not in result.stdout
    report = json.loads(run_cli("audit", str(path), "--now", NOW, "-f", "json", "--fail-on", "never").stdout)
    assert report["secrets_redacted"] == 2


def test_duplicate_key_holding_a_value_after_a_newline_is_redacted(tmp_path):
    value = PLANTED["github"]
    path = tmp_path / "dup.json"
    path.write_text(f'{{"a\\n{value}": 1, "a\\n{value}": 2}}')
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "duplicate key" in result.stderr
    assert value not in result.stderr and value[4:30] not in result.stderr
