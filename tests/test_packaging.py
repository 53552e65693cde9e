"""A built wheel carries its policies, schemas and templates: it audits without the checkout."""

import json
import os
import shutil
import sys

from conftest import FIXTURES, NOW, ROOT, run

# Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and tests never write into the checkout.
NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".bin", ".git", ".cache", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "mutants"
)


def test_wheel_audits_without_the_checkout(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    wheels = tmp_path / "wheels"
    pip_env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}  # where pip finds the build backend
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        env=pip_env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    target = tmp_path / "site"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            *map(str, wheels.glob("*.whl")),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {"PYTHONPATH": str(target)}
    probe = run(
        [sys.executable, "-c", "import auditor.audit as a; print(a.DEFAULT_POLICY_DIR)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip().startswith(str(target))
    hint = run(
        [sys.executable, "-c", "from auditor.engine.binary import install_hint; print(install_hint())"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    pinned = (ROOT / ".opa-version").read_text().strip()
    assert f"`go install github.com/open-policy-agent/opa@v{pinned}`" in hint.stdout  # the wheel carries the pin
    result = run(
        [
            sys.executable,
            "-m",
            "auditor",
            "audit",
            str(FIXTURES / "huggingface"),
            "--now",
            NOW,
            "-f",
            "json",
            "--fail-on",
            "never",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["findings"] > 0
    # the policy input schema ships with the policies it describes
    schema = run(
        [sys.executable, "-m", "auditor", "schema", "policy-input"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["$id"] == "https://token-auditor.dev/schemas/policy-input.json"
