"""What a long run shows: progress on stderr when it is a terminal, nothing extra when it is not
(unless --progress), --quiet, and the table capped per severity on stdout. The real CLI against a real OPA, on a
generated Hugging Face inventory of 40 tokens (39 audited, 1 skipped; 81 findings: 9 critical, 14 high,
56 medium, 2 low)."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

from tests.conftest import NOW, OPA_BIN, ROOT, child_env, read_pty, run_cli

sys.path.insert(0, str(ROOT / "scripts"))

import generate_inventory  # noqa: E402

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "hf-40.json"
    assert generate_inventory.main(["--tokens", "40", "--seed", "1", "-o", str(path)]) == 0
    return path


@pytest.fixture()
def audit_args(opa_server, inventory):
    url, token = opa_server

    def args(*extra: str) -> tuple[list[str], dict]:
        argv = ["audit", str(inventory), "--now", NOW, "--opa-url", url, "--opa-token-env", "TA_TEST_OPA_TOKEN"]
        argv += ["--chunk-size", "5", "--workers", "1", "--fail-on", "never", *extra]
        return argv, {"TA_TEST_OPA_TOKEN": token}

    return args


def stderr_in_pty(argv: list[str], env: dict) -> tuple[str, int]:
    """Run the CLI with stderr on a 100x30 pseudo-terminal (stdout to /dev/null); what stderr showed, exit code."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    terminal = {"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30", "OPA_BIN": OPA_BIN}
    process = subprocess.Popen(
        [sys.executable, "-m", "auditor", *argv],
        stdout=subprocess.DEVNULL,
        stderr=child_fd,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=child_env({**env, **terminal}),
    )
    os.close(child_fd)
    shown = read_pty(main_fd, process)
    return shown, process.wait(timeout=120)


@pytest.mark.parametrize("fmt", ["json", "csv"], ids=["streamed", "whole-file"])
def test_live_progress_on_a_terminal(audit_args, tmp_path, fmt):
    report = tmp_path / f"report.{fmt}"
    argv, env = audit_args("-f", fmt, "-o", str(report))
    shown, code = stderr_in_pty(argv, env)
    assert code == 0
    assert "\x1b[?25l" in shown and "\r" in shown  # drawn in place, cursor hidden meanwhile
    assert shown.endswith("\x1b[?25h")  # and shown again at the end
    frames = [ESCAPES.sub("", frame).strip() for frame in re.split(r"[\r\n]+", shown)]
    assert "⠋ starting" in frames[0]
    assert any(f.startswith("⠋ ") or "connecting to OPA" in f for f in frames)
    evaluating = [f for f in frames if " evaluating " in f]
    assert any("0/39 tokens · ETA -:--:-- · 0 findings" in f for f in evaluating)
    last = frames[-1] or frames[-2]
    assert re.fullmatch(r"✓ done ━{24} 39/39 tokens · \d+ tokens/s · in 0:00:0\d · 81 findings", last), last
    if fmt == "json":
        assert json.loads(report.read_text())["summary"]["findings"] == 81
    else:
        assert len(list(csv.DictReader(io.StringIO(report.read_text())))) == 81


def test_no_progress_and_quiet_show_nothing_on_a_terminal(audit_args, tmp_path):
    argv, env = audit_args("--no-progress", "-o", str(tmp_path / "table.txt"))
    assert stderr_in_pty(argv, env) == ("", 0)
    argv, env = audit_args("-q")
    assert stderr_in_pty(argv, env) == ("", 0)


def test_nothing_extra_on_stderr_when_it_is_a_pipe(audit_args):
    argv, env = audit_args("-q")
    result = run_cli(*argv, env=env)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout == "gate: PASS (fail-on never): 81 new findings, none can fail the gate\n"


def test_progress_flag_off_a_terminal_prints_plain_lines(audit_args):
    argv, env = audit_args("-q", "--progress")
    result = run_cli(*argv, env=env)
    assert result.returncode == 0
    assert result.stdout == "gate: PASS (fail-on never): 81 new findings, none can fail the gate\n"
    lines = result.stderr.splitlines()
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    assert lines[:3] == [
        "token-auditor: reading and normalizing inputs",
        "token-auditor: connecting to OPA",
        "token-auditor: evaluating 39 tokens",
    ]
    assert re.fullmatch(
        r"token-auditor: evaluated 39/39 tokens \(100%\), \d+ tokens/s, in 0:00:0\d, 81 findings so far", lines[3]
    ), lines[3]
    assert lines[4:] == ["token-auditor: building the report"]


def test_every_chunk_reports_once_in_order_with_findings_counted_once(opa_server, inventory):
    """The engine's callback: one call before the first chunk, then one per chunk (8 of 5 tokens, one of 4).
    Organization findings come back from every chunk; they are counted once, as in the report."""
    from auditor.audit import AuditOptions, read_inventory
    from auditor.engine.client import Engine, EngineSettings
    from auditor.engine.fleet import Fleet

    url, token = opa_server
    tokens, _ = read_inventory([str(inventory)], AuditOptions())
    single = Engine(EngineSettings(url=url, token=token, chunk_size=5, workers=1))
    single.load_policies(ROOT / "policies")
    calls: list[tuple[int, int, int]] = []
    findings = single.evaluate(tokens, NOW, progress=lambda *call: calls.append(call))
    single.close()
    assert len(findings) == 81
    assert [done for done, _, _ in calls] == [0, 5, 10, 15, 20, 25, 30, 35, 39]
    assert {total for _, total, _ in calls} == {39}
    assert calls[-1] == (39, 39, 81)
    assert [found for _, _, found in calls] == sorted(found for _, _, found in calls)

    fleet = Fleet([Engine(EngineSettings(url=url, token=token, chunk_size=5, workers=2)) for _ in range(2)])
    seen: list[tuple[int, int, int]] = []
    assert len(fleet.evaluate(tokens, NOW, progress=lambda *call: seen.append(call))) == 81
    fleet.close()
    assert len(seen) == 9 and seen[0] == (0, 39, 0) and seen[-1] == (39, 39, 81)


def _table(audit_args, *extra: str, columns: str = "80") -> str:
    argv, env = audit_args(*extra)
    result = run_cli(*argv, env={**env, "COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_table_on_stdout_capped_per_severity(audit_args):
    capped = _table(audit_args, "--max-rows", "3")
    lines = capped.splitlines()
    assert "CRITICAL (9)" in lines and "MEDIUM (56)" in lines and "LOW (2)" in lines
    assert sum(line.startswith("[new] ") for line in lines) == 3 + 3 + 3 + 2
    assert "… 6 more critical findings: use -f json -o report.json or --max-rows 0" in lines
    assert "… 11 more high findings: use -f json -o report.json or --max-rows 0" in lines
    assert "… 53 more medium findings: use -f json -o report.json or --max-rows 0" in lines
    assert not any("more low finding" in line for line in lines)
    assert "PLANS (35): one per token, fixing all of its findings" in lines
    assert "… 14 more plans of medium tokens: use -f json -o report.json or --max-rows 0" in lines
    assert lines[-1] == "gate: PASS (fail-on never): 81 new findings, none can fail the gate"

    default = _table(audit_args).splitlines()
    assert sum(line.startswith("[new] ") for line in default) == 9 + 14 + 20 + 2
    assert "… 36 more medium findings: use -f json -o report.json or --max-rows 0" in default
    assert not any(" more critical finding" in line or " more high finding" in line for line in default)

    whole = _table(audit_args, "--max-rows", "0").splitlines()
    assert sum(line.startswith("[new] ") for line in whole) == 81
    assert not any(line.startswith("… ") for line in whole)


def test_table_written_with_output_is_never_capped(audit_args, tmp_path):
    out = tmp_path / "table.txt"
    assert _table(audit_args, "--max-rows", "1", "-o", str(out)) == ""
    text = out.read_text()
    assert not re.search(r"^… \d+ more", text, re.M) and "--max-rows" not in text
    assert text.count("│ unrotated-token ") == 30  # every row of the rule with most findings, all medium


def test_capped_grid_and_report_command(audit_args, tmp_path):
    saved = tmp_path / "report.json"
    _table(audit_args, "-f", "json", "-o", str(saved))
    grid = _table(audit_args, "--max-rows", "2", columns="200")
    assert "┌" in grid
    assert "… 12 more high findings: use -f json -o report.json or --max-rows 0" in grid.splitlines()
    rendered = run_cli("report", str(saved), "-f", "table", "--max-rows", "2", env={"COLUMNS": "200"})
    assert rendered.returncode == 0, rendered.stderr
    assert "… 54 more medium findings: use -f json -o report.json or --max-rows 0" in rendered.stdout.splitlines()
    assert rendered.stdout.count("… ") == grid.count("… ")


def test_a_warning_during_the_live_display_goes_above_it(monkeypatch):
    """click.echo(err=True) (a fleet endpoint left out) while the line is live: the line is erased, the warning
    printed, the line drawn again below it; never the warning glued to the end of the line."""
    import click

    from auditor.progress import LiveDisplay

    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    terminal = open(child_fd, "w", encoding="utf-8", errors="backslashreplace")
    try:
        with LiveDisplay(terminal) as display:
            display.update(0, 10, 0)
            display.update(5, 10, 3)
            click.echo("token-auditor: warning: OPA at http://127.0.0.1:9 is unreachable; leaving it out", err=True)
            display.update(10, 10, 4)
        terminal.flush()
        shown = b""
        while select.select([main_fd], [], [], 1)[0]:
            shown += os.read(main_fd, 65536)
    finally:
        terminal.close()
        os.close(main_fd)
    text = shown.decode()
    assert "\r\x1b[2Ktoken-auditor: warning: OPA at http://127.0.0.1:9 is unreachable; leaving it out\r\n" in text
    below = ESCAPES.sub("", text.split("leaving it out\r\n", 1)[1])
    assert re.search(r"✓ done ━{24} 10/10 tokens · (\d+ tokens/s · )?in 0:00:00 · 4 findings\r\n$", below), below


def test_plain_lines_come_every_interval_and_after_the_last_chunk():
    import io

    from auditor.progress import PlainDisplay

    now = [100.0]
    out = io.StringIO()
    display = PlainDisplay(out, interval=5.0, clock=lambda: now[0])
    display.phase("reading and normalizing inputs")
    for seconds, done, findings in [(0, 0, 0), (2, 1000, 10), (5, 2000, 25), (6, 3000, 30), (12, 9000, 70)]:
        now[0] = 100.0 + seconds
        display.update(done, 9000, findings)
    assert out.getvalue().splitlines() == [
        "token-auditor: reading and normalizing inputs",
        "token-auditor: evaluating 9000 tokens",
        "token-auditor: evaluated 2000/9000 tokens (22%), 400 tokens/s, ETA 0:00:17, 25 findings so far",
        "token-auditor: evaluated 9000/9000 tokens (100%), 750 tokens/s, in 0:00:12, 70 findings so far",
    ]


def test_skipped_items_capped_too(opa_server, tmp_path):
    url, token = opa_server
    path = tmp_path / "s6.json"  # 38 audited, 2 skipped (revoked)
    assert generate_inventory.main(["--tokens", "40", "--seed", "6", "-o", str(path)]) == 0
    argv = ["audit", "s6.json", "--now", NOW, "--opa-url", url, "--opa-token-env", "TA_TEST_OPA_TOKEN", "--fail-on"]
    env = {"TA_TEST_OPA_TOKEN": token, "COLUMNS": "80"}
    capped = run_cli(*argv, "never", "--max-rows", "1", env=env, cwd=tmp_path)
    assert capped.returncode == 0, capped.stderr
    lines = capped.stdout.splitlines()
    assert lines[lines.index("SKIPPED (2)") :] == [
        "SKIPPED (2)",
        "huggingface · mirror",
        "    revoked (s6.json#/tokens/15)",
        "… 1 more skipped item: use -f json -o report.json or --max-rows 0",
        "",
        "gate: PASS (fail-on never): 86 new findings, none can fail the gate",
    ]
    whole = run_cli(*argv, "never", "--max-rows", "0", env=env, cwd=tmp_path).stdout.splitlines()
    assert whole[whole.index("SKIPPED (2)") + 1 : whole.index("SKIPPED (2)") + 5] == [
        "huggingface · mirror",
        "    revoked (s6.json#/tokens/15)",
        "huggingface · inference",
        "    revoked (s6.json#/tokens/32)",
    ]
