"""Benchmark 3: twin throughput on loopback, one core, with a bounded load generator.

    .venv/bin/python benchmarks/twin_throughput.py [--seconds 5] [--connections 8] [--repeat 3] [--quick]
        [--impl fast|pure|both]

The twin runs as ``bluum-readiness sandbox --fast --rate-limit 1000000`` pinned to CPU 0 (``taskset -c 0``)
on a SQLite file in a temp folder (the sandbox's default storage: WAL, synchronous=NORMAL). The load comes
from a separate process pinned to CPU 1 (``benchmarks/_loadgen.py``: raw asyncio HTTP/1.1 keep-alive
connections, closed loop, ``--connections`` requests in flight at most). Scenarios, each for ``--seconds``
after a one-second warm-up, repeated ``--repeat`` times (median reported):

- ``read``: ``GET /v1/investors/{id}`` of an investor without deposits (its balance is a row kept by triggers,
  so a read costs the same whatever the investor's history: see docs/performance.md);
- ``deposit``: ``POST /v1/investors/{id}/deposits`` (ACH, 1.00 USD) with a fresh ``Idempotency-Key``, all on
  a second investor;
- ``lifecycle``: create an investor, read it until active, link a bank, deposit, list deposits, wallets and
  transactions (8+ requests per customer).

``--impl`` picks uvicorn's HTTP parser and event loop for the twin: ``fast`` (httptools and uvloop, the
default where installed), ``pure`` (h11 and asyncio's loop: what the twin ran on before), or ``both``: two
twins, one of each, measured alternately in the same run (each scenario and repetition runs on one, then the
other), so the two are compared under the same background load.

``--instructions`` also counts the instructions the twin process executes per read and per deposit under
valgrind's callgrind (benchmarks/_callgrind.py), for each ``--impl``: a figure the machine's other load
cannot move.

Besides requests/s (wall), it prints requests per CPU-second of the twin process (from psutil's CPU times:
less sensitive to other load on a shared machine), the twin's and the generator's CPU use (a generator well
under 100% of its core is not the bottleneck), and the twin's peak memory (VmHWM, sampled RSS as fallback).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
from _callgrind import available as callgrind_missing
from _callgrind import count_instructions, interpreter_command
from _common import (
    active_investor_with_bank,
    cli_command,
    cpu_model,
    deposit_body,
    free_port,
    load_note,
    machine,
    median,
    start_sandbox,
    stop,
    taskset,
)
from _loadgen import generator_process

from bluum_readiness._serving import IMPL_ENV, uvicorn_options

KEY, SECRET = "bench_twin_key", "bench-twin-secret-0123456789abcdef"
TARGETS = {"read": 1000.0, "deposit": 300.0}


def peak_rss_mb(proc: psutil.Process, sampled: float) -> float:
    try:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return sampled / 1024 / 1024


def sample_rss(proc: psutil.Process, done: threading.Event, peak: list[float]) -> None:
    """Every 50 ms until ``done``: the highest RSS of ``proc`` so far into ``peak[0]``."""
    while not done.wait(0.05):
        peak[0] = max(peak[0], float(proc.memory_info().rss))


def measure(base: str, twin: psutil.Process, scenario: tuple[str, tuple[str, ...]], args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    out: Any = ctx.Queue()
    gen_cpu = 1 if taskset("1") else None
    warm_up = ((min(1.0, args.seconds), False),) if args.warm_up else ()
    for seconds, keep in (*warm_up, (args.seconds, True)):  # warm-up, then measure
        gen_args = (gen_cpu, base, KEY, SECRET, scenario, args.connections, seconds, out)
        procs = [ctx.Process(target=generator_process, args=gen_args) for _ in range(args.generators)]
        cpu0 = twin.cpu_times()
        sampled = [0.0]
        done = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(twin, done, sampled), daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        results = [out.get(timeout=seconds + 60) for _ in procs]
        wall = time.perf_counter() - t0
        for p in procs:
            p.join()
        done.set()
        sampler.join()
        cpu1 = twin.cpu_times()
        if keep:
            requests = sum(r[0] for r in results)
            statuses: dict[int, int] = {}
            for r in results:
                for code, n in r[2].items():
                    statuses[code] = statuses.get(code, 0) + n
            twin_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
            return {
                "requests": requests,
                "lifecycles": sum(r[1] for r in results),
                "statuses": statuses,
                "seconds": args.seconds,
                "wall": wall,
                "per_s": requests / args.seconds,
                "per_twin_cpu_s": requests / twin_cpu if twin_cpu else float("nan"),
                "twin_cpu_share": twin_cpu / args.seconds,
                "gen_cpu_share": sum(r[3] for r in results) / args.seconds,
                "peak_mb": peak_rss_mb(twin, sampled[0]),
                "load": load_note(),
            }
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per scenario (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="connections (requests in flight) per generator")
    parser.add_argument("--generators", type=int, default=1, help="generator processes, all on CPU 1 (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions, scenarios interleaved (default 3)")
    parser.add_argument("--scenario", action="append", choices=("read", "deposit", "lifecycle"), help="repeatable")
    parser.add_argument("--impl", choices=("fast", "pure", "both"), default="fast",
                        help="HTTP parser + loop: fast (httptools, uvloop), pure (h11, asyncio), both")  # fmt: skip
    parser.add_argument("--instructions", action="store_true",
                        help="also count the twin's instructions per read and deposit (callgrind; slow)")  # fmt: skip
    parser.add_argument("--instruction-requests", type=int, default=200, help="requests counted (default 200)")
    parser.add_argument("--quick", action="store_true", help="0.1 s per scenario, once, no warm-up (a smoke test)")
    args = parser.parse_args(argv)
    args.warm_up = not args.quick
    if args.instructions and (missing := callgrind_missing()):
        parser.error(f"--instructions needs valgrind: {missing}")
    if args.quick:
        args.seconds, args.repeat = 0.1, 1
    if args.seconds <= 0 or args.connections < 1 or args.generators < 1 or args.repeat < 1:
        parser.error("--seconds must be > 0; --connections, --generators and --repeat at least 1")
    scenarios = args.scenario or ["read", "deposit", "lifecycle"]
    impls = ["pure", "fast"] if args.impl == "both" else [args.impl]

    print(machine())
    cpu = cpu_model()
    pinned = bool(taskset("0"))
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {(i, n): [] for i in impls for n in scenarios}
    with tempfile.TemporaryDirectory(prefix="bluum-bench-twin-") as tmp:
        twins: dict[str, tuple[Any, str, psutil.Process, dict[str, tuple[str, ...]]]] = {}
        try:
            for impl in impls:
                db = str(Path(tmp) / f"twin-{impl}.sqlite3")
                env = {IMPL_ENV: impl}
                proc, base = start_sandbox("0" if pinned else None, rate_limit=1e6, key=KEY, secret=SECRET, db=db,
                                           env=env)  # fmt: skip
                twin = psutil.Process(proc.pid)
                twins[impl] = (proc, base, twin, {})
                if pinned:  # taskset execs the twin: the pid is the twin's own
                    print(f"twin ({describe(impl)}): pid {proc.pid} on CPUs {sorted(twin.cpu_affinity())}; "
                          "generator(s) on CPU 1")  # fmt: skip
                with httpx.Client(base_url=base, auth=(KEY, SECRET), timeout=10) as client:
                    reader_id, _ = active_investor_with_bank(client)  # reads: an investor with a few entries
                    investor_id, source_id = active_investor_with_bank(client)  # deposits pile up on this one
                twins[impl][3].update({"read": (reader_id,), "deposit": (investor_id, source_id), "lifecycle": ()})
            for rep in range(args.repeat):
                for name in scenarios:
                    for impl in impls:
                        _, base, twin, params = twins[impl]
                        r = measure(base, twin, (name, params[name]), args)
                        runs[(impl, name)].append(r)
                        print(f"  run {rep + 1} {name:9s} {impl:4s} {r['per_s']:8.0f} req/s  "
                              f"{r['per_twin_cpu_s']:8.0f} req/twin-CPU-s  "
                              f"twin CPU {r['twin_cpu_share']:4.0%}  generator CPU {r['gen_cpu_share']:4.0%}  "
                              f"statuses {r['statuses']}  {r['load']}")  # fmt: skip
        finally:
            for proc, *_ in twins.values():
                stop(proc)

    print(f"\nmethod: {args.connections} connection(s) x {args.generators} generator process(es), closed loop, "
          f"{args.seconds:g} s per scenario {'after a warm-up' if args.warm_up else 'without warm-up'}, "
          f"median of {args.repeat}; "
          f"twin pinned to CPU 0: {pinned}; CPU {cpu}")  # fmt: skip
    for impl in impls:
        print(f"twin {impl}: {describe(impl)}")
    print("scenario   impl  req/s (median)  req/twin-CPU-s  lifecycles/s  twin peak RSS   target")
    medians: dict[tuple[str, str], tuple[float, float]] = {}
    for (impl, name), rs in runs.items():
        per_s = median([r["per_s"] for r in rs])
        per_cpu = median([r["per_twin_cpu_s"] for r in rs])
        medians[(impl, name)] = (per_s, per_cpu)
        life = median([r["lifecycles"] / r["seconds"] for r in rs]) if name == "lifecycle" else float("nan")
        peak = max(r["peak_mb"] for r in rs)
        target = TARGETS.get(name)
        verdict = "-" if target is None else f">= {target:g}/s: {'holds' if per_s >= target else 'does NOT hold'}"
        print(f"{name:10s} {impl:4s} {per_s:14.0f}  {per_cpu:14.0f}  {life:12.1f}  {peak:10.1f} MB   {verdict}")
    if len(impls) == 2:
        print(f"\nfast / pure (same run, CPU {cpu}):")
        for name in scenarios:
            (fast_s, fast_cpu), (pure_s, pure_cpu) = medians[("fast", name)], medians[("pure", name)]
            print(f"  {name:10s} req/s {fast_s / pure_s:5.2f}x   req/twin-CPU-s {fast_cpu / pure_cpu:5.2f}x")
    bad = {code for rs in runs.values() for r in rs for code in r["statuses"] if code >= 400}
    if bad:
        print(f"note: error statuses seen: {sorted(bad)}")
    if args.instructions:
        counted = {impl: count_twin(impl, args.instruction_requests) for impl in impls}
        print(f"\ninstructions per request of the twin process, user space (callgrind; load-independent), CPU {cpu}:")
        for impl, by_scenario in counted.items():
            cells = "   ".join(f"{name} {count / 1e3:7.0f} k" for name, count in by_scenario.items())
            print(f"  {impl:4s} ({describe(impl)}): {cells}")
        if len(impls) == 2:
            ratios = "   ".join(f"{n} {counted['pure'][n] / counted['fast'][n]:4.2f}x" for n in counted["fast"])
            print(f"  pure / fast: {ratios}")
    return 0


def count_twin(impl: str, requests: int) -> dict[str, float]:
    """Instructions per read and per deposit of a twin on ``impl``, started under callgrind."""
    port = free_port()
    script = cli_command()
    cmd = [*(interpreter_command(script[0]) if len(script) == 1 else script), "sandbox", "--fast", "--port",
           str(port), "--rate-limit", "1000000"]  # fmt: skip
    env = {IMPL_ENV: impl, "BLUUM_API_KEY": KEY, "BLUUM_API_SECRET": SECRET}
    counted: dict[str, float] = {}
    for name in ("read", "deposit"):
        print(f"counting instructions: twin ({impl}) {name} under callgrind ({requests} requests) ...", flush=True)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}/v1", auth=(KEY, SECRET), timeout=60)
        ids: list[str] = []

        def ready(client: httpx.Client = client) -> bool:
            try:
                client.get("/assets/AAPL")
                return True
            except httpx.TransportError:
                return False

        def workload(n: int, client: httpx.Client = client, name: str = name, ids: list[str] = ids) -> None:
            if not ids:
                ids.extend(active_investor_with_bank(client))
            for _ in range(n):
                if name == "read":
                    client.get(f"/investors/{ids[0]}").raise_for_status()
                else:
                    key = {"Idempotency-Key": str(uuid.uuid4())}
                    body = deposit_body(ids[1], "1.00")
                    client.post(f"/investors/{ids[0]}/deposits", json=body, headers=key).raise_for_status()

        try:
            counted[name] = count_instructions(cmd, ready, workload, requests=requests, env=env)
        finally:
            client.close()
    return counted


def describe(impl: str) -> str:
    """What uvicorn runs the twin on under ``BLUUM_READINESS_SERVER_IMPL=impl``, as this machine has it."""
    saved = os.environ.get(IMPL_ENV)
    os.environ[IMPL_ENV] = impl
    try:
        options = uvicorn_options()
    finally:
        if saved is None:
            os.environ.pop(IMPL_ENV, None)
        else:
            os.environ[IMPL_ENV] = saved
    return f"uvicorn http={options['http']}, loop={options['loop']}"


if __name__ == "__main__":
    sys.exit(main())
