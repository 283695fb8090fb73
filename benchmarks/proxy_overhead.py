"""Benchmark 2: what the fault proxy adds to a request's latency.

    .venv/bin/python benchmarks/proxy_overhead.py [--requests 2000] [--quick]

One twin (``bluum-readiness sandbox --fast``, its own process) and one pass-through proxy in front of it, in
two placements: ``bluum-readiness proxy`` in its own process (how a developer runs it), and ``ProxyServer``
in this process on its own thread (how the suite runs it, next to the integration). The same request loop
(``GET /v1/investors/{id}`` with a keep-alive ``httpx.Client`` per path) goes round-robin to the twin
directly, through the proxy process and through the in-process proxy, so all three paths see the same
background load. Reported per path: p50 and p99 latency; per proxy: added latency (proxied minus direct)
at p50 and p99, the median of the paired per-round differences, and the ratio proxied/direct at p50.
Every proxied exchange is also recorded by the proxy (as in a real run); the recorder is part of the cost.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
from _common import active_investor_with_bank, cli_command, load_note, machine, median, pct, start_sandbox, stop

from bluum_readiness.proxy import ProxyServer

KEY, SECRET = "bench_proxy_key", "bench-proxy-secret-0123456789abcdef"


def start_proxy_process(upstream: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*cli_command(), "proxy", "--upstream", upstream, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening on" in line:
            return proc, line.split("listening on", 1)[1].split()[0]
    proc.kill()
    raise SystemExit("the proxy did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per path (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests per path first (default 100)")
    parser.add_argument("--quick", action="store_true", help="20 requests per path (a smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup = 20, 5
    if args.requests < 1:
        parser.error("--requests must be at least 1")

    print(machine())
    twin, base = start_sandbox(None, rate_limit=1e6, key=KEY, secret=SECRET)
    proxy_proc, proxy_base = start_proxy_process(base)
    in_process = ProxyServer(base).start()
    clients: dict[str, httpx.Client] = {}
    try:
        paths = {"direct": base, "proxy process": proxy_base, "proxy in-process": in_process.base_url}
        clients = {name: httpx.Client(base_url=url, auth=(KEY, SECRET), timeout=10) for name, url in paths.items()}
        investor_id, _ = active_investor_with_bank(clients["direct"])
        url = f"/investors/{investor_id}"

        def timed(client: httpx.Client) -> Callable[[], float]:
            def once() -> float:
                t0 = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - t0
                if response.status_code != 200:
                    raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:200]}")
                return elapsed * 1000

            return once

        loops = {name: timed(c) for name, c in clients.items()}
        for _ in range(args.warmup):
            for once in loops.values():
                once()
        samples: dict[str, list[float]] = {name: [] for name in loops}
        load_before = load_note()
        for _ in range(args.requests):
            for name, once in loops.items():
                samples[name].append(once())
        load_after = load_note()
        recorded = len(in_process.exchanges(settle=1.0))
    finally:
        for client in clients.values():
            client.close()
        in_process.stop()
        stop(proxy_proc)
        stop(twin)

    print(f"method: {args.requests} x GET /v1/investors/{{id}} per path after {args.warmup} warm-up, round-robin "
          "over the paths, one keep-alive connection per path, perf_counter around each request")  # fmt: skip
    print(f"twin: bluum-readiness sandbox --fast (own process); {load_before} before, {load_after} after")
    print("\nlatency per path (ms):")
    for name, values in samples.items():
        mean = sum(values) / len(values)
        print(f"  {name:18s} p50 {pct(values, 50):7.3f}  p99 {pct(values, 99):7.3f}  mean {mean:7.3f}")
    direct = samples["direct"]
    print("\nadded by the proxy (ms):")
    for name in ("proxy process", "proxy in-process"):
        values = samples[name]
        paired = [p - d for p, d in zip(values, direct, strict=True)]
        added50, added99 = pct(values, 50) - pct(direct, 50), pct(values, 99) - pct(direct, 99)
        ratio = pct(values, 50) / pct(direct, 50)
        verdict = "holds" if added50 < 1.0 else "does NOT hold"
        print(f"  {name:18s} p50 +{added50:6.3f}  p99 +{added99:6.3f}  paired median +{median(paired):6.3f}  "
              f"ratio p50 {ratio:4.2f}x   target < 1 ms at p50: {verdict}")  # fmt: skip
    print(f"\nthe in-process proxy recorded {recorded} exchanges (warm-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
