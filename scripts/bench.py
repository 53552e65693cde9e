#!/usr/bin/env python3
"""Benchmark: token-auditor audit vs raw `opa eval` vs one OPA request per token.

For each size it generates a seeded inventory (scripts/generate_inventory.py) and measures, each as
a child process tree of this script (wall time, peak RSS summed over the tree, polled):
  (a) `token-auditor audit FILE --format json -o /dev/null --fail-on never --now …` (managed OPA; a
      huggingface-inventory/v1 .json export streams with -f json too, so this is the streamed path since 2026-11-29);
  (b) `opa eval -d <policies without tests> -i normalized.json data.token_auditor.main.findings`
      on the input written by `token-auditor normalize` (the same bundle the engine loads);
  (c) one request per token: a real managed OPA with Engine(chunk_size=1, workers=1) on a sample
      of tokens, extrapolated to the size (server start and policy load counted once).
  (f) the audit of (a) with a fleet of --fleet (default 3) local `opa run --server` that download the bundle
      `token-auditor bundle` built from a local http.server; RSS and CPU include the servers.
  (s) the streaming audit (issue 12) of the same Hugging Face file, `--format jsonl`; beyond --whole-max
      (100k) it is the only run (--huge: 1M tokens).
Then prints audit / raw opa eval (target <= 1.3x), per-token / audit (target >= 50x), and fleet / single.

    .venv/bin/python scripts/bench.py                       # 10k and 100k tokens
    .venv/bin/python scripts/bench.py --huge                # also 1M
    .venv/bin/python scripts/bench.py --sizes 200 --sample 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from generate_inventory import huggingface_inventory, write_json  # noqa: E402

NOW = "2026-11-25T00:00:00Z"
POLL_SECONDS = 0.02
AUDIT_TARGET = 1.3
PER_TOKEN_TARGET = 50.0
# issue 12: the streamed audit at 100k <= 0.25x raw opa eval and <= 1 GiB; 1M < 1.5 GiB and <= 11x the 100k wall
STREAM_TARGET = 0.25
STREAM_RSS = 2**30
STREAM_RSS_HUGE = 1.5 * 2**30
HUGE_GROWTH = 11.0


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("token-auditor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "auditor"]


def _opa_bin() -> str:
    from auditor.engine import find_opa

    return find_opa(None)


def _cpu(processes: list) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def measure(command: list[str], env: dict | None = None, also: list | None = None) -> dict:
    """Run a command; wall time and the peak of the summed RSS of its process tree (polled), plus the processes
    in `also` (servers it talks to but did not start: their RSS and the CPU they spent during the run).

    Output goes to temporary files, not pipes, so a chatty child never blocks on a full pipe.
    """
    also = also or []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    also_cpu = _cpu(also)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = psutil.Popen(
            command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, **(env or {})}
        )
        peak = 0
        while process.poll() is None:
            total = 0
            try:
                tree = [process, *process.children(recursive=True), *also]
            except psutil.Error:
                tree = list(also)
            for member in tree:
                try:
                    total += member.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes grandchildren the child reaped (OPA)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) + _cpu(also) - also_cpu
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "cpu": cpu,
            "rss": peak,
            "returncode": process.returncode,
            "stdout": out.read(),
            "stderr": err.read(),
        }


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
    inventory = Inventory(
        tokens=picked, orgs=document["orgs"], locations=document["locations"], secrets=document["secrets"]
    )
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
    print(
        json.dumps({"setup": ready - started, "eval": done - ready, "tokens": len(picked), "findings": len(findings)})
    )


def _mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def _secs(value: float) -> str:
    return f"{value:,.2f} s"


class BundleService:
    """The fleet's bundle, served by Python's http.server on 127.0.0.1 from this process."""

    def __init__(self, directory: Path):
        import functools
        import http.server
        import threading

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory))
        )
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# The OPA servers of the fleet see no proxy or other setting of the caller's environment.
FLEET_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def start_fleet(count: int, service: str, work: Path, opa: str) -> list:
    """`count` OPA servers on 127.0.0.1 downloading the bundle; returns them once each has activated it."""
    import requests

    from auditor.engine.server import _free_port

    servers = []
    for index in range(count):
        port = _free_port()
        config = work / f"fleet-{index}.yaml"
        config.write_text(
            f"services:\n  bundles:\n    url: {service}\nbundles:\n  token-auditor:\n"
            "    service: bundles\n    resource: policies.tar.gz\n"
            "    polling: {min_delay_seconds: 3600, max_delay_seconds: 7200}\n"
        )
        process = psutil.Popen(
            [
                opa,
                "run",
                "--server",
                "--disable-telemetry",
                "--addr",
                f"127.0.0.1:{port}",
                "--log-level",
                "error",
                "--config-file",
                str(config),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=FLEET_ENV,
            cwd=work,
        )
        process.url = f"http://127.0.0.1:{port}"
        servers.append(process)
    with requests.Session() as session:
        session.trust_env = False
        for server in servers:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if session.get(f"{server.url}/health?bundles", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    stop_fleet(servers)
                    raise SystemExit(f"bench: fleet server {server.url} did not activate the bundle")
                time.sleep(0.1)
    return servers


def stop_fleet(servers: list) -> None:
    for server in servers:
        if server.poll() is None:
            server.terminate()
    for server in servers:
        try:
            server.wait(timeout=10)
        except (subprocess.TimeoutExpired, psutil.TimeoutExpired):
            server.kill()


def same_findings(single: Path, fleet: Path) -> bool:
    """The two JSON reports are equal line by line, but for the engine's mode (managed vs remote)."""
    with single.open("rb") as a, fleet.open("rb") as b:
        for left, right in zip(a, b, strict=False):
            if left != right and left.replace(b'"managed"', b'"remote"') != right:
                return False
        return not a.read(1) and not b.read(1)


def run_fleet(
    size: int, inventory: Path, limit: list[str], args, work: Path, opa: str, service: str, single_report: Path
) -> dict:
    started = time.perf_counter()
    servers = start_fleet(args.fleet, service, work, opa)
    ready = time.perf_counter() - started
    report = work / f"fleet-report-{size}.json"
    urls = [part for server in servers for part in ("--opa-url", server.url)]
    command = [
        *_cli(),
        "audit",
        str(inventory),
        "--format",
        "json",
        "-o",
        str(report),
        "--fail-on",
        "never",
        "--now",
        NOW,
        *limit,
        *urls,
        *args.audit_args,
    ]
    try:
        result = _check("fleet audit", measure(command, {"OPA_BIN": opa}, also=servers), ok=(0, 1))
    finally:
        stop_fleet(servers)
    result["startup"] = ready
    result["identical"] = same_findings(single_report, report)
    result["command"] = command
    report.unlink(missing_ok=True)
    single_report.unlink(missing_ok=True)
    return result


def run_streamed(size: int, args, inventory: Path, opa: str) -> dict:
    """(s): the streaming audit of the Hugging Face export itself, `--format jsonl` (no size limit)."""
    command = [
        *_cli(),
        "audit",
        str(inventory),
        "--format",
        "jsonl",
        "-o",
        os.devnull,
        "--fail-on",
        "never",
        "--now",
        NOW,
        *args.audit_args,
    ]
    result = _check("streamed audit", measure(command, {"OPA_BIN": opa}), ok=(0, 1))
    result["command"] = command
    result["bytes"] = inventory.stat().st_size
    return result


def run_huge(size: int, args, work: Path, opa: str) -> dict:
    """Beyond --whole-max only the streaming audit runs: holding the whole inventory (normalize, audit -f json)
    or one OPA input of every token (raw opa eval) does not fit this machine. Generating the export is not
    measured (1M tokens: about 2 min of CPU and 4 GB in this process)."""
    inventory = work / f"hf-{size}.json"
    if not inventory.exists():  # --keep DIR reuses it
        write_json(huggingface_inventory(size, args.seed), inventory)
    return {"size": size, "bytes": None, "streamed": run_streamed(size, args, inventory, opa), "whole": False}


def run_size(size: int, args, work: Path, bundle: Path, opa: str, service: str | None = None) -> dict:
    if size > args.whole_max:
        return run_huge(size, args, work, opa)
    inventory = work / f"hf-{size}.json"
    normalized = work / f"normalized-{size}.json"
    started = time.perf_counter()
    document = huggingface_inventory(size, args.seed)
    write_json(document, inventory)
    generated = time.perf_counter() - started
    del document
    streamed = run_streamed(size, args, inventory, opa) if args.stream else None
    limit = ["--max-input-bytes", str(max(256 * 2**20, 4 * inventory.stat().st_size))]
    cli = _cli()
    normalize_cmd = [*cli, "normalize", str(inventory), "--now", NOW, "-o", str(normalized), *limit]
    single_report = work / f"single-report-{size}.json"
    audit_cmd = [
        *cli,
        "audit",
        str(inventory),
        "--format",
        "json",
        "-o",
        str(single_report) if service else os.devnull,
        "--fail-on",
        "never",
        "--now",
        NOW,
        *limit,
        *args.audit_args,
    ]
    eval_cmd = [
        opa,
        "eval",
        "-d",
        str(bundle),
        "-i",
        str(normalized),
        "data.token_auditor.main.findings",
        "--format",
        "json",
    ]
    worker_cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--per-token-worker",
        str(normalized),
        "--sample",
        str(args.sample),
        "--seed",
        str(args.seed),
        "--policy-dir",
        str(args.policy_dir),
    ]
    env = {"OPA_BIN": opa}
    norm = _check("normalize", measure(normalize_cmd, env))
    audit = _check("audit", measure(audit_cmd, env), ok=(0, 1))
    fleet = run_fleet(size, inventory, limit, args, work, opa, service, single_report) if service else None
    raw = _check("opa eval", measure(eval_cmd, env))
    raw_findings = len(json.loads(raw["stdout"])["result"][0]["expressions"][0]["value"])
    worker = _check("per-token", measure(worker_cmd, env))
    timings = json.loads(worker["stdout"].decode().strip().splitlines()[-1])
    per_token_wall = timings["setup"] + timings["eval"] / max(1, timings["tokens"]) * size
    return {
        "size": size,
        "bytes": inventory.stat().st_size,
        "generated": generated,
        "normalize": norm,
        "audit": audit,
        "raw": raw,
        "raw_findings": raw_findings,
        "per_token": {"wall": per_token_wall, "cpu": None, "rss": worker["rss"], "sample": timings},
        "fleet": fleet,
        "streamed": streamed,
        "whole": True,
        "commands": {"normalize": normalize_cmd, "audit": audit_cmd, "opa eval": eval_cmd, "per-token": worker_cmd},
    }


def report(results: list[dict], args, opa: str) -> None:
    from auditor.engine.binary import opa_version

    print(
        f"OPA {opa_version(opa)} ({opa}); {os.cpu_count()} cores "
        f"({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} usable); "
        f"Python {sys.version.split()[0]}; seed {args.seed}; per-token sample {args.sample}"
    )
    print()
    header = (
        f"{'tokens':>9} | {'input':>9} | {'measurement':<38} | {'wall':>11} | {'CPU (tree)':>11} | "
        f"{'peak RSS (tree)':>15}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        size = f"{r['size']:,}"
        rows = []
        if r["whole"]:
            rows = [
                ("token-auditor normalize (info)", r["normalize"], r["bytes"]),
                ("(a) token-auditor audit (-f json)", r["audit"], r["bytes"]),
                ("(b) raw opa eval (normalized)", r["raw"], r["bytes"]),
                (f"(c) per-token, {r['per_token']['sample']['tokens']} extrapolated", r["per_token"], r["bytes"]),
            ]
            if r["fleet"]:
                rows.insert(2, (f"(f) audit, fleet of {args.fleet} OPA", r["fleet"], r["bytes"]))
        if r["streamed"]:
            rows.insert(2 if r["whole"] else 0, ("(s) audit streamed (-f jsonl)", r["streamed"], None))
        for name, m, size_bytes in rows:
            rss_text = _mib(m["rss"]) + (" (sample)" if name.startswith("(c)") else "")
            cpu = "-" if m["cpu"] is None else _secs(m["cpu"])
            shown = _mib(size_bytes if size_bytes is not None else m["bytes"])
            print(f"{size:>9} | {shown:>9} | {name:<38} | {_secs(m['wall']):>11} | {cpu:>11} | {rss_text:>15}")
            size = ""
    print()
    streamed = {r["size"]: r["streamed"] for r in results if r["streamed"]}
    for r in results:
        s = r["streamed"]
        if not s:
            continue
        parts = [f"{r['size']:>9,} tokens streamed: wall {_secs(s['wall'])}, peak RSS {_mib(s['rss'])}"]
        if r["whole"]:
            over = s["wall"] / r["raw"]["wall"]
            parts.append(
                f"/ raw opa eval: wall {over:.2f}x (target <= {STREAM_TARGET}x: "
                f"{'met' if over <= STREAM_TARGET else 'NOT met'}), CPU {s['cpu'] / max(r['raw']['cpu'], 1e-9):.2f}x, "
                f"peak RSS {s['rss'] / max(r['raw']['rss'], 1):.2f}x; / (a) audit -f json: wall "
                f"{s['wall'] / r['audit']['wall']:.2f}x, peak RSS {s['rss'] / max(r['audit']['rss'], 1):.2f}x"
            )
        limit = STREAM_RSS_HUGE if r["size"] >= 1_000_000 else STREAM_RSS
        parts.append(f"RSS target < {_mib(limit)}: {'met' if s['rss'] <= limit else 'NOT met'}")
        base = streamed.get(100_000)
        if r["size"] >= 1_000_000 and base:
            growth = s["wall"] / base["wall"]
            parts.append(
                f"wall / 100k streamed {growth:.1f}x (target <= {HUGE_GROWTH:.0f}x: "
                f"{'met' if growth <= HUGE_GROWTH else 'NOT met'})"
            )
        print("; ".join(parts))
    for r in results:
        if not r["whole"]:
            continue
        audit, raw, per = r["audit"]["wall"], r["raw"]["wall"], r["per_token"]["wall"]
        over = audit / raw
        speedup = per / audit
        cpu_over = r["audit"]["cpu"] / max(r["raw"]["cpu"], 1e-9)
        print(
            f"{r['size']:>9,} tokens: audit / raw opa eval = {over:.2f}x (target <= {AUDIT_TARGET}x: "
            f"{'met' if over <= AUDIT_TARGET else 'NOT met'}; CPU {cpu_over:.2f}x); "
            f"per-token / audit = {speedup:.1f}x (target >= {PER_TOKEN_TARGET:.0f}x: "
            f"{'met' if speedup >= PER_TOKEN_TARGET else 'NOT met'}); "
            f"raw opa eval findings {r['raw_findings']:,}; "
            f"per-token sample {r['per_token']['sample']['eval'] / max(1, r['per_token']['sample']['tokens']) * 1000:.2f} ms/token"
        )
    for r in results:
        fleet = r.get("fleet")
        if fleet:
            print(
                f"{r['size']:>9,} tokens: fleet of {args.fleet} / single managed OPA: wall "
                f"{fleet['wall'] / r['audit']['wall']:.2f}x, CPU {fleet['cpu'] / max(r['audit']['cpu'], 1e-9):.2f}x, "
                f"peak RSS {fleet['rss'] / max(r['audit']['rss'], 1):.2f}x (fleet start and bundle activation "
                f"{fleet['startup']:.1f} s, not counted); findings identical to the single server: "
                f"{'yes' if fleet['identical'] else 'NO'}"
            )
    print()
    print("commands (last size; FILE and normalized.json are generated per size):")
    whole = [r for r in results if r["whole"]]
    last = whole[-1]["commands"] if whole else {}
    if whole and whole[-1]["fleet"]:
        last = {**last, "fleet audit": whole[-1]["fleet"]["command"]}
    if results[-1]["streamed"]:
        last = {**last, "streamed audit": results[-1]["streamed"]["command"]}
    for name, command in last.items():
        print(f"  {name}: {shlex.join(command)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="token-auditor benchmark")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated token counts (default 10k,100k)")
    parser.add_argument("--huge", action="store_true", help="also run 1,000,000 tokens")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--sample", type=int, default=200, help="tokens sent one request each for (c)")
    parser.add_argument("--policy-dir", type=Path, default=ROOT / "policies")
    parser.add_argument("--keep", metavar="DIR", help="write inventories and normalized inputs here and keep them")
    parser.add_argument(
        "--audit-arg",
        dest="audit_args",
        action="append",
        default=[],
        help="extra argument for the audit command (repeatable), e.g. --audit-arg=--chunk-size=5000",
    )
    parser.add_argument(
        "--fleet",
        type=int,
        default=3,
        metavar="N",
        help="also audit with a fleet of N local OPA servers loading the bundle (0: skip; default 3)",
    )
    parser.add_argument(
        "--whole-max",
        type=int,
        default=100_000,
        metavar="N",
        help="above N tokens run only the streamed audit (s): the whole-file runs do not fit (default 100k)",
    )
    parser.add_argument(
        "--no-stream", dest="stream", action="store_false", help="skip (s), the streamed audit of the same export"
    )
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
        service = None
        if args.fleet > 0:
            served = Path(temp) / "served"
            served.mkdir()
            _check(
                "bundle",
                measure(
                    [*_cli(), "bundle", "-o", str(served / "policies.tar.gz"), "--policy-dir", str(args.policy_dir)],
                    {"OPA_BIN": opa},
                ),
            )
            service = BundleService(served)
        results = []
        try:
            for size in sizes:
                print(f"bench: {size:,} tokens …", file=sys.stderr, flush=True)
                results.append(run_size(size, args, work, bundle, opa, service.url if service else None))
        finally:
            if service:
                service.close()
        report(results, args, opa)
    return 0


if __name__ == "__main__":
    sys.exit(main())
