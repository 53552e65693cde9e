"""The format registry and several formats written by one run."""

from __future__ import annotations

import json

from auditor.report.formats import FORMATS
from tests.conftest import NOW, run_cli
from tests.format_support import HEAD


def test_formats_are_registered():
    assert {"sarif", "junit", "markdown"} <= set(FORMATS)


def test_several_formats_in_one_run_and_output_errors(audit_json, tmp_path, opa_server):
    url, token = opa_server
    common = ("--now", NOW, "--opa-url", url, "--opa-token-env", "T")
    a, b = tmp_path / "a.sarif", tmp_path / "b.md"
    result = run_cli(
        "audit", str(HEAD), "-f", "sarif", "-o", str(a), "-f", "markdown", "-o", str(b), *common, env={"T": token}
    )
    assert result.returncode == 1 and a.exists() and b.read_text().startswith("## token-auditor")
    result = run_cli("audit", str(HEAD), "-f", "sarif", "-f", "markdown", *common, env={"T": token})
    assert result.returncode == 2 and "-o/--output" in result.stderr
    result = run_cli("audit", str(HEAD), "-f", "nope", *common, env={"T": token})
    assert result.returncode == 2 and "unknown format 'nope'" in result.stderr
    single = run_cli("audit", str(HEAD), "--format", "json", *common, env={"T": token})
    assert json.loads(single.stdout)["gate"]["failing"] >= 1
