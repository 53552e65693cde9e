"""Work directories of killed runs are removed by the next run; those of live runs stay."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from auditor.engine.server import remove_stale_workdirs

HOUR_AND_A_BIT = 3700


def _make(root, name: str, age: float = 0.0):
    path = root / name
    path.mkdir()
    (path / "authz.rego").write_text('allow if input.identity == "old-style plain token"\n')
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_old_style_directories_without_a_pid_are_removed_once_unused_and_old(tmp_path):
    old = _make(tmp_path, "token-auditor-opa-k2x_9qab", age=HOUR_AND_A_BIT)
    digits = _make(tmp_path, "token-auditor-opa-12345678", age=HOUR_AND_A_BIT)  # random part, not a pid
    fresh = _make(tmp_path, "token-auditor-opa-fr3sh0ne")  # its server may be starting right now
    in_use = _make(tmp_path, "token-auditor-opa-busy1234", age=HOUR_AND_A_BIT)
    other = _make(tmp_path, "token-auditor-other", age=HOUR_AND_A_BIT)
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], cwd=in_use)
    try:
        remove_stale_workdirs(str(tmp_path))
    finally:
        server.kill()
        server.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "token-auditor-opa-busy1234",
        "token-auditor-opa-fr3sh0ne",
        "token-auditor-other",
    ]
    assert not old.exists() and not digits.exists() and fresh.exists() and other.exists()


def test_directories_named_by_pid_go_with_their_process(tmp_path):
    _make(tmp_path, f"token-auditor-opa-{os.getpid()}-abcd1234")
    _make(tmp_path, f"token-auditor-opa-{_dead_pid()}-efgh5678")
    remove_stale_workdirs(str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == [f"token-auditor-opa-{os.getpid()}-abcd1234"]
