#!/usr/bin/env python3
"""Benchmark (issue 2 §9): token-auditor audit vs raw `opa eval` vs one OPA request per token.

For each size it generates a seeded inventory (scripts/generate_inventory.py) and measures, each as
a child process tree of this script (wall time, peak RSS summed over the tree, polled):
  (a) `token-auditor audit FILE --format json -o /dev/null --fail-on never --now …` (managed OPA);
  (b) `opa eval -d <policies without tests> -i normalized.json data.token_auditor.main.findings`
      on the input written by `token-auditor normalize` (the same bundle the engine loads);
  (c) one request per token: a real managed OPA with Engine(chunk_size=1, workers=1) on a sample
      of tokens, extrapolated to the size (server start and policy load counted once).
Then prints audit / raw opa eval (target <= 1.3x) and per-token / audit (target >= 50x).

    .venv/bin/python scripts/bench.py                       # 10k and 100k tokens
    .venv/bin/python scripts/bench.py --huge                # also 1M
    .venv/bin/python scripts/bench.py --sizes 200 --sample 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import resource

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from generate_inventory import huggingface_inventory, write_json  # noqa: E402

NOW = "2026-11-25T00:00:00Z"
POLL_SECONDS = 0.02
AUDIT_TARGET = 1.3
PER_TOKEN_TARGET = 50.0


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("token-auditor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "auditor"]


def _opa_bin() -> str:
    from auditor.engine import find_opa

    return find_opa(None)


def measure(command: list[str], env: dict | None = None) -> dict:
    """Run a command; wall time and the peak of the summed RSS of its process tree (polled).

    Output goes to temporary files, not pipes, so a chatty child never blocks on a full pipe.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = psutil.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT,
                               env={**os.environ, **(env or {})})
        peak = 0
        while process.poll() is None:
            total = 0
            try:
                tree = [process, *process.children(recursive=True)]
            except psutil.Error:
                tree = []
            for member in tree:
                try:
                    total += member.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes grandchildren the child reaped (OPA)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        out.seek(0)
        err.seek(0)
        return {"wall": wall, "cpu": cpu, "rss": peak, "returncode": process.returncode, "stdout": out.read(),
                "stderr": err.read()}


def _check(name: str, result: dict, ok=(0,)) -> dict:
    if result["returncode"] not in ok:
        tail = result["stderr"].decode(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"bench: {name} failed with exit {result['returncode']}: " + " | ".join(tail))
    return result


def policy_bundle(policy_dir: Path, target: Path) -> Path:
    """The modules and data documents the engine loads (auditor/engine/client.py), copied to target."""
    from auditor.engine.client import data_files, policy_files

    for path in [*policy_files(policy_dir), *data_files(policy_dir)]:
        destination = target / path.relative_to(policy_dir)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    return target


def per_token_worker(normalized: str, sample: int, seed: int, policy_dir: str, opa: str) -> None:
    """Child mode for (c): one request per token for `sample` tokens; prints timings as JSON."""
    from auditor.engine import Engine, EngineSettings, ManagedOpa
    from auditor.model.inventory import Inventory

    document = json.loads(Path(normalized).read_text())
    tokens = document["tokens"]
    picked = random.Random(seed).sample(tokens, min(sample, len(tokens)))
    inventory = Inventory(tokens=picked, orgs=document["orgs"], locations=document["locations"],
                          secrets=document["secrets"])
    del document, tokens
    started = time.perf_counter()
    with ManagedOpa(opa, policy_dir=Path(policy_dir)) as server:
        engine = Engine(EngineSettings(url=server.url, token=server.token, chunk_size=1, workers=1))
        engine.check()
        if not server.preloaded:
            engine.load_policies(Path(policy_dir))
        ready = time.perf_counter()
        findings = engine.evaluate(inventory, NOW, None)
        done = time.perf_counter()
        engine.close()
    print(json.dumps({"setup": ready - started, "eval": done - ready, "tokens": len(picked),
                      "findings": len(findings)}))


def _mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def _secs(value: float) -> str:
    return f"{value:,.2f} s"


def run_size(size: int, args, work: Path, bundle: Path, opa: str) -> dict:
    inventory = work / f"hf-{size}.json"
    normalized = work / f"normalized-{size}.json"
    started = time.perf_counter()
    write_json(huggingface_inventory(size, args.seed), inventory)
    generated = time.perf_counter() - started
    limit = ["--max-input-bytes", str(max(256 * 2**20, 4 * inventory.stat().st_size))]
    cli = _cli()
    normalize_cmd = [*cli, "normalize", str(inventory), "--now", NOW, "-o", str(normalized), *limit]
    audit_cmd = [*cli, "audit", str(inventory), "--format", "json", "-o", os.devnull, "--fail-on", "never",
                 "--now", NOW, *limit, *args.audit_args]
    eval_cmd = [opa, "eval", "-d", str(bundle), "-i", str(normalized), "data.token_auditor.main.findings",
                "--format", "json"]
    worker_cmd = [sys.executable, str(Path(__file__).resolve()), "--per-token-worker", str(normalized),
                  "--sample", str(args.sample), "--seed", str(args.seed), "--policy-dir", str(args.policy_dir)]
    env = {"OPA_BIN": opa}
    norm = _check("normalize", measure(normalize_cmd, env))
    audit = _check("audit", measure(audit_cmd, env), ok=(0, 1))
    raw = _check("opa eval", measure(eval_cmd, env))
    raw_findings = len(json.loads(raw["stdout"])["result"][0]["expressions"][0]["value"])
    worker = _check("per-token", measure(worker_cmd, env))
    timings = json.loads(worker["stdout"].decode().strip().splitlines()[-1])
    per_token_wall = timings["setup"] + timings["eval"] / max(1, timings["tokens"]) * size
    return {
        "size": size, "bytes": inventory.stat().st_size, "generated": generated,
        "normalize": norm, "audit": audit, "raw": raw, "raw_findings": raw_findings,
        "per_token": {"wall": per_token_wall, "cpu": None, "rss": worker["rss"], "sample": timings},
        "commands": {"normalize": normalize_cmd, "audit": audit_cmd, "opa eval": eval_cmd,
                     "per-token": worker_cmd},
    }


def report(results: list[dict], args, opa: str) -> None:
    from auditor.engine.binary import opa_version

    print(f"OPA {opa_version(opa)} ({opa}); {os.cpu_count()} cores "
          f"({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} usable); "
          f"Python {sys.version.split()[0]}; seed {args.seed}; per-token sample {args.sample}")
    print()
    header = (f"{'tokens':>9} | {'input':>9} | {'measurement':<34} | {'wall':>11} | {'CPU (tree)':>11} | "
              f"{'peak RSS (tree)':>15}")
    print(header)
    print("-" * len(header))
    for r in results:
        size = f"{r['size']:,}"
        rows = [
            ("token-auditor normalize (info)", r["normalize"]),
            ("(a) token-auditor audit", r["audit"]),
            ("(b) raw opa eval (normalized)", r["raw"]),
            (f"(c) per-token, {r['per_token']['sample']['tokens']} extrapolated", r["per_token"]),
        ]
        for name, m in rows:
            rss_text = _mib(m["rss"]) + (" (sample)" if name.startswith("(c)") else "")
            cpu = "-" if m["cpu"] is None else _secs(m["cpu"])
            print(f"{size:>9} | {_mib(r['bytes']):>9} | {name:<34} | {_secs(m['wall']):>11} | {cpu:>11} | "
                  f"{rss_text:>15}")
            size = ""
    print()
    for r in results:
        audit, raw, per = r["audit"]["wall"], r["raw"]["wall"], r["per_token"]["wall"]
        over = audit / raw
        speedup = per / audit
        cpu_over = r["audit"]["cpu"] / max(r["raw"]["cpu"], 1e-9)
        print(f"{r['size']:>9,} tokens: audit / raw opa eval = {over:.2f}x (target <= {AUDIT_TARGET}x: "
              f"{'met' if over <= AUDIT_TARGET else 'NOT met'}; CPU {cpu_over:.2f}x); "
              f"per-token / audit = {speedup:.1f}x (target >= {PER_TOKEN_TARGET:.0f}x: "
              f"{'met' if speedup >= PER_TOKEN_TARGET else 'NOT met'}); "
              f"raw opa eval findings {r['raw_findings']:,}; "
              f"per-token sample {r['per_token']['sample']['eval'] / max(1, r['per_token']['sample']['tokens']) * 1000:.2f} ms/token")
    print()
    print("commands (last size; FILE and normalized.json are generated per size):")
    last = results[-1]["commands"]
    for name, command in last.items():
        print(f"  {name}: {shlex.join(command)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="token-auditor benchmark (issue 2 §9)")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated token counts (default 10k,100k)")
    parser.add_argument("--huge", action="store_true", help="also run 1,000,000 tokens")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=int, default=200, help="tokens sent one request each for (c)")
    parser.add_argument("--policy-dir", type=Path, default=ROOT / "policies")
    parser.add_argument("--keep", metavar="DIR", help="write inventories and normalized inputs here and keep them")
    parser.add_argument("--audit-arg", dest="audit_args", action="append", default=[],
                        help="extra argument for the audit command (repeatable), e.g. --audit-arg=--chunk-size=5000")
    parser.add_argument("--per-token-worker", metavar="NORMALIZED", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    opa = _opa_bin()
    if args.per_token_worker:
        per_token_worker(args.per_token_worker, args.sample, args.seed, str(args.policy_dir), opa)
        return 0
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: give comma-separated integers")
    if args.huge and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    if not sizes or min(sizes) < 1 or args.sample < 1:
        parser.error("sizes and --sample must be >= 1")
    with tempfile.TemporaryDirectory(prefix="token-auditor-bench-") as temp:
        work = Path(args.keep) if args.keep else Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        bundle = policy_bundle(args.policy_dir, Path(temp) / "bundle")
        results = []
        for size in sizes:
            print(f"bench: {size:,} tokens …", file=sys.stderr, flush=True)
            results.append(run_size(size, args, work, bundle, opa))
        report(results, args, opa)
    return 0


if __name__ == "__main__":
    sys.exit(main())
