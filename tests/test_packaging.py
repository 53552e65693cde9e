"""A built wheel carries its policies, schemas and templates: it audits without the checkout."""

import json
import os
import subprocess
import sys

from conftest import FIXTURES, NOW, OPA_BIN, ROOT


def test_wheel_audits_without_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    *map(str, wheels.glob("*.whl"))], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "OPA_BIN": OPA_BIN}
    probe = subprocess.run([sys.executable, "-c", "import auditor.audit as a; print(a.DEFAULT_POLICY_DIR)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert probe.stdout.strip().startswith(str(target))
    result = subprocess.run([sys.executable, "-m", "auditor", "audit", str(FIXTURES / "huggingface"), "--now", NOW,
                             "-f", "json", "--fail-on", "never"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["findings"] > 0
