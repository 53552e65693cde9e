#!/usr/bin/env python3
"""Mutation testing of the gate, redaction and severity code with cosmic-ray (pinned in the dev extras).

cosmic-ray edits the module on disk for each mutant, so it runs in a throw-away copy of the checkout, never in
it. Every mutant runs the test command below; a mutant the tests do not fail on "survived". Prints the kill
rate and the surviving mutants' diffs. `--sample N` runs a seeded random sample (a full run takes hours: each
mutant runs the test command).

    python scripts/python_mutants.py [--sample N] [--seed S] [--module auditor/redaction.py ...]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("auditor/gate", "auditor/redaction.py", "auditor/findings")
# In-process unit tests first (fast, -x stops at the first failure), then the end-to-end literal ones.
TESTS = (
    "tests/test_gate_waivers.py",
    "tests/test_gate_baseline.py",
    "tests/test_gate_diff.py",
    "tests/test_mutation_survivors_diff.py",
    "tests/test_secrets_and_lifecycle.py",
    "tests/test_mutation_survivors.py",
)
DESELECT = "not killed and not normal_exit and not markdown_size_bound"
SKIP = ("__pycache__", ".venv", ".git", ".hypothesis", ".pytest_cache", "build", "*.egg-info", "mutants", "docs")


def cosmic_ray(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    binary = Path(sys.executable).with_name("cosmic-ray")
    return subprocess.run([str(binary), *args], cwd=cwd, check=True, capture_output=True, text=True)


def keep_sample(db: Path, size: int, seed: int) -> int:
    with sqlite3.connect(db) as conn:
        jobs = sorted(row[0] for row in conn.execute("SELECT job_id FROM work_items"))
        dropped = [(job,) for job in jobs if job not in set(random.Random(seed).sample(jobs, min(size, len(jobs))))]
        conn.executemany("DELETE FROM mutation_specs WHERE job_id = ?", dropped)
        conn.executemany("DELETE FROM work_items WHERE job_id = ?", dropped)
        return len(jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, help="run only this many mutants, chosen at random (seeded)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--module", action="append", help=f"module or package to mutate (default: {MODULES})")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (session database)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ta-mutation-"))
    try:
        copy = work / "src"
        shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(*SKIP))
        if not (copy / ".bin").exists():  # OPA: the checkout's pinned build
            (copy / ".bin").symlink_to((ROOT / ".bin").resolve())
        modules = args.module or list(MODULES)
        test_command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider {' '.join(TESTS)} -k '{DESELECT}'"
        config = work / "cosmic-ray.toml"
        config.write_text(
            "[cosmic-ray]\n"
            f"module-path = {json.dumps(modules)}\n"
            "timeout = 600.0\n"
            "excluded-modules = []\n"
            f"test-command = {json.dumps(test_command)}\n\n"
            '[cosmic-ray.distributor]\nname = "local"\n'
        )
        db = work / "session.sqlite"
        cosmic_ray("init", str(config), str(db), cwd=copy)
        total = keep_sample(db, args.sample, args.seed) if args.sample else None
        print(
            f"mutating {', '.join(modules)}" + (f": a sample of {args.sample} of {total} mutants" if total else ""),
            flush=True,
        )
        cosmic_ray("exec", str(config), str(db), cwd=copy)
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT s.module_path, s.operator_name, s.start_pos_row, r.test_outcome, r.worker_outcome, r.diff "
                "FROM work_results r JOIN mutation_specs s USING (job_id) ORDER BY s.module_path, s.start_pos_row"
            ).fetchall()
        killed = sum(1 for row in rows if (row[3] or "").lower() == "killed")
        survived = [row for row in rows if (row[3] or "").lower() == "survived"]
        other = len(rows) - killed - len(survived)
        for module, operator, line, _, _, diff in survived:
            print(f"survived: {module}:{line} {operator}\n{diff}")
        rate = 100.0 * killed / max(1, killed + len(survived))
        print(
            f"python mutants: {killed} killed, {len(survived)} survived, {other} incompetent/timeout; "
            f"kill rate {rate:.1f}%"
        )
        return 0
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
