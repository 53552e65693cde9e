"""The benchmark's inventory generator and a tiny end-to-end bench run (real CLI, real OPA)."""

from __future__ import annotations

import hashlib
import json
import re
import sys

from conftest import ROOT, run, run_cli

SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(SCRIPTS))

import generate_inventory  # noqa: E402


def _generate(tmp_path, name: str, *args: str) -> bytes:
    out = tmp_path / name
    result = run(
        [sys.executable, str(SCRIPTS / "generate_inventory.py"), *args, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first = _generate(tmp_path, "a.json", "--tokens", "300", "--seed", "7")
    again = _generate(tmp_path, "b.json", "--tokens", "300", "--seed", "7")
    other = _generate(tmp_path, "c.json", "--tokens", "300", "--seed", "8")
    assert hashlib.sha256(first).digest() == hashlib.sha256(again).digest()
    assert first != other
    assert len(json.loads(first)["tokens"]) == 300


def test_mix_is_realistic():
    document = generate_inventory.huggingface_inventory(2000, seed=3)
    tokens = document["tokens"]
    access = [(t["whoami"] or {}).get("auth", {}).get("accessToken") for t in tokens]
    roles = {a["role"] for a in access if a}
    assert {"read", "write", "fineGrained"} <= roles
    kinds = {t["inventory"]["kind"] for t in tokens}
    assert {"user_access_token", "org_api_token", "oauth_token_exchange"} <= kinds
    assert any(a is None for a in access), "some tokens cannot be introspected"
    scoped_types = {
        s["entity"]["type"] for a in access if a and a.get("fineGrained") for s in a["fineGrained"]["scoped"]
    }
    assert {"model", "dataset", "user", "org"} <= scoped_types
    stored = {p["kind"] for t in tokens for p in t["inventory"].get("stored_in", [])}
    assert {"hf_space_secret", "hf_space_variable", "github_actions_secret"} <= stored
    assert sum(1 for t in tokens if t["inventory"].get("observed_usage")) > 500
    assert document["members"] and document["spaces"] and document["org_policies"]
    text = json.dumps(document)
    assert re.search(r"hf_[A-Za-z0-9]{34}", text), "planted fake token values exercise redaction"


def test_generated_inventories_are_schema_valid(tmp_path):
    hf = tmp_path / "hf.json"
    neutral = tmp_path / "neutral.json"
    result = run(
        [
            sys.executable,
            str(SCRIPTS / "generate_inventory.py"),
            "--tokens",
            "500",
            "--seed",
            "11",
            "-o",
            str(hf),
            "--neutral",
            "200",
            "--neutral-output",
            str(neutral),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    checked = run_cli("validate", str(hf), str(neutral))
    assert checked.returncode == 0, checked.stderr
    assert f"ok {hf}: huggingface-inventory/v1, 500 tokens" in checked.stdout
    assert f"ok {neutral}: token-inventory/v1, 200 tokens" in checked.stdout
    assert "redacted" in checked.stderr  # the planted values were found
    assert not re.search(r"hf_[A-Za-z0-9]{30,}", checked.stdout + checked.stderr)


def test_tiny_bench_run_prints_table_and_ratios():
    result = run(
        [sys.executable, str(SCRIPTS / "bench.py"), "--sizes", "200", "--sample", "20"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert re.search(r"^OPA \d+\.\d+\.\d+ .*cores", out, re.M)
    for row in ("(a) token-auditor audit", "(b) raw opa eval", "(c) per-token, 20 extrapolated"):
        assert re.search(rf"\| {re.escape(row)}[^|]*\|\s+[\d.,]+ s \|.*[\d,]+ MiB", out), row
    ratio = re.search(r"200 tokens: audit / raw opa eval = ([\d.]+)x .*per-token / audit = ([\d.]+)x", out)
    assert ratio, out
    assert float(ratio.group(1)) > 0 and float(ratio.group(2)) > 0
    assert re.search(r"raw opa eval findings [1-9][\d,]*", out), "raw OPA found the same kind of findings"
    assert "opa eval: " in out and "data.token_auditor.main.findings" in out
