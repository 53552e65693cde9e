"""Issue 9 item 3: no exception ends a run with exit 1 (reserved for findings) or a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import auditor.cli as cli

TOKEN = "ghp_BV62h9MahWLm52mva5fiI6bGfKFI6mAezmOW"


@pytest.mark.parametrize(
    "error, line",
    [
        (
            MemoryError(),
            "token-auditor: error: out of memory (an input too large for this machine? see --max-input-bytes)",
        ),
        (
            RuntimeError(f"boom {TOKEN}\nsecond line"),
            "token-auditor: error: internal error: RuntimeError: boom [REDACTED]:ghp_…zmOW second line",
        ),
        (KeyError("subject"), "token-auditor: error: internal error: KeyError: 'subject'"),
        (RecursionError(), "token-auditor: error: internal error: data nested too deeply"),
        (
            PermissionError(13, "Permission denied"),
            "token-auditor: error: internal error: PermissionError: [Errno 13] Permission denied",
        ),
    ],
)
def test_unexpected_exception_is_exit_3_one_redacted_line(monkeypatch, error, line):
    def explode(*args, **kwargs):
        raise error

    monkeypatch.setattr(cli, "run_audit", explode)
    result = CliRunner().invoke(cli.main, ["audit", "x.yaml", "--now", "2026-11-25T00:00:00Z"])
    assert result.exit_code == 3
    assert result.stderr == line + "\n"
    assert result.stdout == ""


def test_usage_error_is_exit_2():
    result = CliRunner().invoke(cli.main, ["audit"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: Missing argument 'PATHS...'."


def test_interrupt_is_130(monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_audit", interrupt)
    result = CliRunner().invoke(cli.main, ["audit", "x.yaml"])
    assert result.exit_code == 130
    assert result.stderr == "token-auditor: error: interrupted\n"
