"""Benchmark 2: what the fault proxy adds to a request's latency, beside mitmproxy, measured in one run.

    .venv/bin/python benchmarks/proxy_overhead.py [--requests 1000] [--quick] [--instructions]
        [--mitmdump PATH] [--baseline-src DIR]

One twin (``bluum-readiness sandbox --fast``, its own process) and pass-through proxies in front of it:

- ``proxy process``: ``bluum-readiness proxy`` in its own process (how a developer runs it);
- ``proxy in-process``: ``ProxyServer`` in this process on its own thread (how the suite runs it, next to
  the integration);
- ``mitmproxy``: ``mitmdump --mode reverse:<twin>`` when mitmdump is found (``--mitmdump``, ``$MITMDUMP``,
  next to this interpreter, ``.venv-bench/bin/``, then ``PATH``; see benchmarks/README.md for installing it);
- ``baseline process`` (with ``--baseline-src DIR``): ``bluum-readiness proxy`` from another checkout's
  ``src/`` (e.g. the tree before a change), so before and after are measured in the same loop.

The same request (``GET /v1/investors/{id}``, one keep-alive ``httpx.Client`` per path) goes round-robin to
the twin directly and through every proxy, the order rotating each round, so every path sees the same
background load. Reported per path: p50, p99 and mean latency, and the CPU time the serving process (the
in-process proxy's thread) spent per request; per proxy: added latency (proxied minus direct) at p50 and p99,
the median of the paired per-round differences, the ratio to direct, and the verdicts against the targets
(added ≤ 0.5 ms at p50, ≤ 1.5 ms at p99; at least 3× less added than mitmproxy). Every proxied exchange is
recorded by our proxies, as in a real run: the recorder is part of the cost.

``--instructions`` also counts the instructions each proxy process executes per request under valgrind's
callgrind (benchmarks/_callgrind.py): a figure the machine's other load cannot move.

Figures depend on the CPU: the script prints its model beside them; compare only figures from one CPU model.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from _callgrind import available as callgrind_missing
from _callgrind import count_instructions, interpreter_command
from _common import (
    ROOT,
    active_investor_with_bank,
    cli_command,
    cpu_model,
    free_port,
    load_note,
    machine,
    median,
    pct,
    start_sandbox,
    stop,
)

from bluum_readiness._serving import uvicorn_options
from bluum_readiness.proxy import ProxyServer

KEY, SECRET = "bench_proxy_key", "bench-proxy-secret-0123456789abcdef"
TARGET_P50_MS, TARGET_P99_MS, TARGET_VS_MITMPROXY = 0.5, 1.5, 3.0
OURS = ("proxy process", "proxy in-process")


@dataclass
class Route:
    """One way to the twin: its base URL, and the process (or thread) whose CPU time it costs."""

    name: str
    base_url: str
    process: psutil.Process | None = None
    thread_id: int | None = None  # the in-process proxy: its thread in this process
    samples: list[float] = field(default_factory=list)
    cpu_s: float = float("nan")


def proxy_command(src: str | None = None) -> list[str]:
    """``bluum-readiness`` (this checkout), or the one in another checkout's ``src/``."""
    if src is None:
        return cli_command()
    code = f"import sys; sys.path.insert(0, {src!r}); from bluum_readiness.cli.main import main; sys.exit(main())"
    return [sys.executable, "-c", code]


def start_proxy_process(upstream: str, src: str | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*proxy_command(src), "proxy", "--upstream", upstream, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on" in line:
            return proc, line.split("listening on", 1)[1].split()[0]
    proc.kill()
    raise SystemExit(f"the proxy{' from ' + src if src else ''} did not start")


def find_mitmdump(given: str | None) -> str | None:
    if given and not (Path(given).is_file() and os.access(given, os.X_OK)):
        raise SystemExit(f"--mitmdump {given} is not an executable file")
    candidates = [given, os.environ.get("MITMDUMP"), str(Path(sys.executable).parent / "mitmdump"),
                  str(ROOT / ".venv-bench" / "bin" / "mitmdump"), shutil.which("mitmdump")]  # fmt: skip
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def mitmdump_version(mitmdump: str) -> str:
    out = subprocess.run([mitmdump, "--version"], capture_output=True, text=True, timeout=60).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Mitmproxy")), "?")


def mitmdump_command(mitmdump: str, origin: str, port: int) -> list[str]:
    return [mitmdump, "--mode", f"reverse:{origin}", "--listen-host", "127.0.0.1", "--listen-port", str(port), "-q"]


def wait_listening(port: int, proc: subprocess.Popen[str], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not listen on port {port} within {timeout:g} s")


def cpu_seconds(route: Route) -> float:
    """CPU time so far of the route's thread or process (all its threads): ``/proc/…/task/*/schedstat``
    (nanoseconds) on Linux, else psutil (clock ticks: coarse over short runs)."""
    if route.thread_id is not None:
        tasks = [Path(f"/proc/self/task/{route.thread_id}")]
    elif route.process is not None:
        tasks = list(Path(f"/proc/{route.process.pid}/task").glob("*")) if Path("/proc").is_dir() else []
    else:
        return float("nan")
    try:
        if tasks:
            return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    if route.thread_id is not None:
        thread = next((t for t in psutil.Process().threads() if t.id == route.thread_id), None)
        return thread.user_time + thread.system_time if thread else float("nan")
    assert route.process is not None
    times = route.process.cpu_times()
    return times.user + times.system


def timed(client: httpx.Client, url: str) -> Callable[[], float]:
    def once() -> float:
        t0 = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:200]}")
        return elapsed * 1000

    return once


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per path (default 1000)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests per path first (default 100)")
    parser.add_argument("--quick", action="store_true", help="20 requests per path (a smoke test)")
    parser.add_argument("--mitmdump", help="the mitmdump executable (default: searched, see above)")
    parser.add_argument("--no-mitmproxy", action="store_true", help="leave mitmproxy out even when it is found")
    parser.add_argument("--baseline-src", help="also measure `bluum-readiness proxy` from this checkout's src/")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each proxy process's instructions per request (callgrind; slow)")  # fmt: skip
    parser.add_argument("--instruction-requests", type=int, default=200, help="requests counted (default 200)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup, args.instruction_requests = 20, 5, 10
    if args.requests < 1 or args.warmup < 0 or args.instruction_requests < 1:
        parser.error("--requests and --instruction-requests must be at least 1, --warmup at least 0")
    if args.baseline_src and not (Path(args.baseline_src) / "bluum_readiness").is_dir():
        parser.error(f"--baseline-src {args.baseline_src} has no bluum_readiness/ package; pass a checkout's src/")
    if args.instructions and (missing := callgrind_missing()):
        parser.error(f"--instructions needs valgrind: {missing}")
    mitmdump = None if args.no_mitmproxy else find_mitmdump(args.mitmdump)

    cpu = cpu_model()
    print(machine())
    print(f"CPU: {cpu}")
    loop = uvicorn_options()["loop"]  # the proxy's loop is chosen as uvicorn's is
    print(f"our proxy: httptools parser, {loop} event loop; recorder on (every exchange recorded, secrets redacted)")
    if mitmdump:
        print(f"mitmproxy: {mitmdump_version(mitmdump)} ({mitmdump}), reverse mode")
    elif args.no_mitmproxy:
        print("mitmproxy: left out (--no-mitmproxy)")
    else:
        print("mitmproxy: not found, not measured (see benchmarks/README.md: a separate venv with mitmproxy)")

    procs: list[subprocess.Popen[str]] = []
    clients: dict[str, httpx.Client] = {}
    twin, base = start_sandbox(None, rate_limit=1e6, key=KEY, secret=SECRET)
    procs.append(twin)
    origin = base.removesuffix("/v1")
    in_process = ProxyServer(base)
    try:
        paths = [Route("direct", base, psutil.Process(twin.pid))]
        proxy_proc, proxy_base = start_proxy_process(base)
        procs.append(proxy_proc)
        paths.append(Route("proxy process", proxy_base, psutil.Process(proxy_proc.pid)))
        in_process.start()
        thread = next(t for t in threading.enumerate() if t.name == f"bluum-proxy:{in_process.port}")
        paths.append(Route("proxy in-process", in_process.base_url, thread_id=thread.native_id))
        if args.baseline_src:
            old_proc, old_base = start_proxy_process(base, args.baseline_src)
            procs.append(old_proc)
            paths.append(Route("baseline process", old_base, psutil.Process(old_proc.pid)))
        if mitmdump:
            port = free_port()
            mitm = subprocess.Popen(mitmdump_command(mitmdump, origin, port), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.STDOUT, text=True)  # fmt: skip
            procs.append(mitm)
            wait_listening(port, mitm, "mitmdump")
            paths.append(Route("mitmproxy", f"http://127.0.0.1:{port}/v1", psutil.Process(mitm.pid)))
        clients = {p.name: httpx.Client(base_url=p.base_url, auth=(KEY, SECRET), timeout=10) for p in paths}
        investor_id, _ = active_investor_with_bank(clients["direct"])
        url = f"/investors/{investor_id}"
        loops = [(p, timed(clients[p.name], url)) for p in paths]

        for _ in range(args.warmup):
            for _, once in loops:
                once()
        loads = [os.getloadavg()[0]]
        cpu0 = [cpu_seconds(p) for p in paths]
        t0 = time.perf_counter()
        every = max(1, args.requests // 10)
        for i in range(args.requests):
            shift = i % len(loops)
            for path, once in loops[shift:] + loops[:shift]:  # rotate: no path is always first after a pause
                path.samples.append(once())
            if i % every == every - 1:
                loads.append(os.getloadavg()[0])
        wall = time.perf_counter() - t0
        for path, before in zip(paths, cpu0, strict=True):
            path.cpu_s = cpu_seconds(path) - before
        recorded = len(in_process.exchanges(settle=1.0))
    finally:
        for client in clients.values():
            client.close()
        in_process.stop()
        for proc in reversed(procs[1:]):
            stop(proc)

    instructions: dict[str, float] = {}
    try:
        if args.instructions:
            instructions = count_proxies(base, url, mitmdump, args)
    finally:
        stop(twin)

    report(paths, args, cpu, loads, wall, recorded, instructions)
    return 0


def count_proxies(base: str, url: str, mitmdump: str | None, args: argparse.Namespace) -> dict[str, float]:
    """Instructions per request of each proxy process, one after the other, under callgrind."""
    origin = base.removesuffix("/v1")
    commands: dict[str, tuple[list[str], int]] = {}
    for name, src in (("proxy process", None), ("baseline process", args.baseline_src)):
        if name == "baseline process" and not src:
            continue
        port = free_port()
        cmd = proxy_command(src)
        if len(cmd) == 1:
            cmd = interpreter_command(cmd[0])
        commands[name] = ([*cmd, "proxy", "--upstream", base, "--port", str(port)], port)
    if mitmdump:
        port = free_port()
        commands["mitmproxy"] = (interpreter_command(mitmdump) + mitmdump_command(mitmdump, origin, port)[1:], port)
    counted: dict[str, float] = {}
    for name, (cmd, port) in commands.items():
        print(f"counting instructions: {name} under callgrind ({args.instruction_requests} requests) ...", flush=True)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}/v1", auth=(KEY, SECRET), timeout=60)

        def ready(client: httpx.Client = client) -> bool:
            try:
                client.get(url)
                return True
            except httpx.TransportError:
                return False

        def workload(n: int, client: httpx.Client = client) -> None:
            for _ in range(n):
                client.get(url).raise_for_status()

        try:
            counted[name] = count_instructions(cmd, ready, workload, requests=args.instruction_requests)
        finally:
            client.close()
    return counted


def report(
    paths: list[Route],
    args: argparse.Namespace,
    cpu: str,
    loads: list[float],
    wall: float,
    recorded: int,
    instructions: dict[str, float],
) -> None:
    n = args.requests
    print(f"\nmethod: {n} x GET /v1/investors/{{id}} per path after {args.warmup} warm-up, round-robin over the "
          f"{len(paths)} paths (order rotating each round), one keep-alive connection per path, perf_counter "
          f"around each request; {wall:.1f} s in all")  # fmt: skip
    print(f"load average (1 min) during the loop: median {median(loads):.2f}, {min(loads):.2f}-{max(loads):.2f} "
          f"on {os.cpu_count()} CPUs; now: {load_note()}")  # fmt: skip
    print("paths: direct = to the twin; proxy process = `bluum-readiness proxy`; proxy in-process = ProxyServer in "
          "this process's thread (as the suite runs it)"
          + ("; baseline process = `bluum-readiness proxy` from --baseline-src" if args.baseline_src else "")
          + ("; mitmproxy = mitmdump --mode reverse" if any(p.name == "mitmproxy" for p in paths) else ""))  # fmt: skip
    print("  (this benchmark's own processes add about 1 to the load average while it runs)")
    if median(loads) > (os.cpu_count() or 1):
        print(f"WARNING: the machine was busy (load {median(loads):.2f} on {os.cpu_count()} CPUs): latencies are "
              "inflated and noisy; instruction counts (--instructions) are not. Rerun on a quiet machine.")  # fmt: skip
    print(f"\nlatency per path (ms), CPU {cpu}:")
    print(f"  {'path':18s} {'p50':>7s} {'p99':>7s} {'mean':>7s}   CPU per request of the serving process")
    for p in paths:
        mean = sum(p.samples) / len(p.samples)
        who = "its thread" if p.thread_id else "its process"
        served = n
        if p.name == "direct":  # the twin serves every path's requests (and runs its background ticks)
            who, served = "the twin, per request it served", n * len(paths)
        cpu_ms = p.cpu_s / served * 1000
        print(f"  {p.name:18s} {pct(p.samples, 50):7.3f} {pct(p.samples, 99):7.3f} {mean:7.3f}   "
              f"{cpu_ms:6.3f} ms ({who})")  # fmt: skip

    direct = paths[0].samples
    added: dict[str, tuple[float, float]] = {}
    print(f"\nadded by the proxy (ms; proxied minus direct, each proxy), CPU {cpu}:")
    for p in paths[1:]:
        paired = [a - b for a, b in zip(p.samples, direct, strict=True)]
        added50, added99 = pct(p.samples, 50) - pct(direct, 50), pct(p.samples, 99) - pct(direct, 99)
        added[p.name] = (added50, added99)
        ratio = pct(p.samples, 50) / pct(direct, 50)
        verdict = ""
        if p.name in OURS:
            ok50, ok99 = added50 <= TARGET_P50_MS, added99 <= TARGET_P99_MS
            verdict = (f"  target <= {TARGET_P50_MS} ms at p50: {'holds' if ok50 else 'does NOT hold'}; "
                       f"<= {TARGET_P99_MS} ms at p99: {'holds' if ok99 else 'does NOT hold'}")  # fmt: skip
        print(f"  {p.name:18s} p50 {added50:+7.3f}  p99 {added99:+7.3f}  paired median {median(paired):+7.3f}  "
              f"ratio p50 {ratio:4.2f}x{verdict}")  # fmt: skip

    if "mitmproxy" in added:
        mitm50 = added["mitmproxy"][0]
        print(f"\nagainst mitmproxy (added at p50; target: ours at least {TARGET_VS_MITMPROXY:g}x less), CPU {cpu}:")
        for name in OURS:
            ours = added[name][0]
            times = mitm50 / ours if ours > 0 else float("inf")
            verdict = "holds" if times >= TARGET_VS_MITMPROXY else "does NOT hold"
            print(f"  {name:18s} {ours:+7.3f} ms vs mitmproxy {mitm50:+7.3f} ms: {times:5.1f}x less   {verdict}")
    else:
        print("\nagainst mitmproxy: not measured (mitmdump not found or left out)")

    if instructions:
        print(f"\ninstructions per request, user space, whole process (callgrind; load-independent), CPU {cpu}:")
        ours = instructions.get("proxy process")
        for name, count in instructions.items():
            rel = f"  ({count / ours:4.2f}x ours)" if ours and name != "proxy process" else ""
            print(f"  {name:18s} {count / 1e3:9.0f} k{rel}")
    print(f"\nthe in-process proxy recorded {recorded} exchanges (warm-up included)")
    print(f"figures measured on {cpu}: compare them only with figures from the same CPU model")


if __name__ == "__main__":
    sys.exit(main())
