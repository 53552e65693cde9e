"""Issue 9 items 1 and 9: outputs never replace what is not a regular file, and a run commits all or nothing."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, NOW, ROOT, run_cli

HF = str(FIXTURES / "huggingface" / "org-export.yaml")


def normalize_to(target: str, **kw) -> subprocess.CompletedProcess:
    return run_cli("normalize", HF, "--now", NOW, "-o", target, **kw)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_fifo_is_written_in_place_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = normalize_to(str(fifo))
    reader.join(timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["now"] == NOW
    assert leftovers(tmp_path) == []


def test_character_device_is_written_in_place_not_replaced(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here: {exc}")
    result = normalize_to(str(device))
    assert (result.returncode, result.stderr) == (0, "")
    info = os.lstat(device)
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_dev_full_is_enospc_exit_2():
    result = normalize_to("/dev/full")
    assert result.returncode == 2
    assert result.stderr == "token-auditor: error: /dev/full: cannot write: No space left on device\n"
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_dev_stdout_writes_to_stdout():
    result = normalize_to("/dev/stdout")
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["now"] == NOW


def test_dev_stdout_appends_when_stdout_is_a_file_in_append_mode(tmp_path):
    log = tmp_path / "log"
    log.write_text("first line\n")
    with open(log, "a") as out:
        result = subprocess.run(
            [sys.executable, "-m", "auditor", "normalize", HF, "--now", NOW, "-o", "/dev/stdout"],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    assert (result.returncode, result.stderr) == (0, "")
    text = log.read_text()
    assert text.startswith("first line\n{")
    assert json.loads(text.split("\n", 1)[1])["now"] == NOW


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_stdout_on_dev_full_is_exit_2_one_line():
    with open("/dev/full", "w") as full:
        for args in (["schema"], ["normalize", HF, "--now", NOW]):
            result = subprocess.run(
                [sys.executable, "-m", "auditor", *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                timeout=120,
            )
            assert result.returncode == 2, args
            assert result.stderr == "token-auditor: error: stdout: cannot write: No space left on device\n", args


def test_directory_target_exit_2_and_no_temp_file(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    result = normalize_to(str(target))
    assert result.returncode == 2
    assert result.stderr == f"token-auditor: error: {target}: cannot write: is a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert list(target.iterdir()) == []


def test_file_too_large_leaves_target_untouched_and_no_temp(tmp_path):
    target = tmp_path / "input.json"
    target.write_text("old\n")

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    result = subprocess.run(
        [sys.executable, "-m", "auditor", "normalize", HF, "--now", NOW, "-o", str(target)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        preexec_fn=small_files,
    )
    assert result.returncode == 2
    assert result.stderr == f"token-auditor: error: {target}: cannot write: File too large\n"
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.json"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_several_outputs_all_or_nothing(tmp_path):
    first = tmp_path / "diff.json"
    first.write_text("old\n")
    fresh = tmp_path / "new.md"
    result = run_cli(
        "diff",
        "--no-findings",
        HF,
        HF,
        "--now",
        NOW,
        "-f",
        "json",
        "-o",
        str(first),
        "-f",
        "markdown",
        "-o",
        str(fresh),
        "-f",
        "table",
        "-o",
        "/dev/full",
    )
    assert result.returncode == 2
    assert result.stderr == "token-auditor: error: /dev/full: cannot write: No space left on device\n"
    assert first.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diff.json"]


def test_several_outputs_second_into_directory_writes_none(tmp_path):
    (tmp_path / "blocked").mkdir()
    result = run_cli(
        "diff",
        "--no-findings",
        HF,
        HF,
        "--now",
        NOW,
        "-f",
        "json",
        "-o",
        str(tmp_path / "diff.json"),
        "-f",
        "markdown",
        "-o",
        str(tmp_path / "blocked"),
    )
    assert result.returncode == 2
    assert result.stderr == f"token-auditor: error: {tmp_path / 'blocked'}: cannot write: is a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked"]


def test_several_outputs_written_together(tmp_path):
    result = run_cli(
        "diff",
        "--no-findings",
        HF,
        HF,
        "--now",
        NOW,
        "--output-dir",
        str(tmp_path / "out"),
        "-f",
        "json",
        "-f",
        "markdown",
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["token-auditor-diff.json", "token-auditor-diff.md"]


def test_symlink_is_followed_and_kept(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = normalize_to(str(link))
    assert (result.returncode, result.stderr) == (0, "")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["now"] == NOW
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_dangling_symlink_creates_the_file_it_names(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "created.json")
    result = normalize_to(str(link))
    assert (result.returncode, result.stderr) == (0, "")
    assert link.is_symlink()
    assert json.loads((tmp_path / "created.json").read_text())["now"] == NOW


def test_symlink_to_a_fifo_writes_the_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = normalize_to(str(link))
    reader.join(timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["now"] == NOW


def test_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "input.json"
    target.write_text("old\n")
    target.chmod(0o600)
    result = normalize_to(str(target))
    assert result.returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["now"] == NOW


def test_two_outputs_naming_one_file_are_refused(tmp_path):
    target = tmp_path / "same"
    link = tmp_path / "link"
    link.symlink_to(target)
    result = run_cli(
        "diff",
        "--no-findings",
        HF,
        HF,
        "--now",
        NOW,
        "-f",
        "json",
        "-o",
        str(target),
        "-f",
        "markdown",
        "-o",
        str(link),
    )
    assert result.returncode == 2
    assert result.stderr == "token-auditor: error: two outputs name the same file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"]
