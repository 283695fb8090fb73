"""Benchmark 4: how well a parallel run uses a rate-limited target, and whether it ever trips the limit itself.

    .venv/bin/python benchmarks/rate_limit_efficiency.py [--requests 200] [--workers 4] [--rate 10] [--quick]

A twin limited to ``--rate`` requests/s per key pair (``bluum-readiness sandbox --rate-limit 10 --fast``, its
own process, bucket burst = rate) is the target. ``--workers`` processes (as ``-n 4`` would start) each open a
``SuiteSession.against`` the twin with one ``SharedRateLimiter`` (the controller makes the state file, as the
pytest plugin does) and issue their share of ``--requests``: alternately through the suite's own setup client
(paced by its request hook) and through the session's fault proxy (paced by the proxy before forwarding) —
the two paths a real run's traffic takes. The workers start together (a barrier after start-up), so the wall
time runs from the first request sent to the last answer received.

Reported: wall time against the ideal N/rate, efficiency = (N/rate) / wall, and every 429 (the twin serves
nobody else, so each one is self-caused). Target: >= 90% efficiency with no self-caused 429.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from typing import Any

import httpx
from _common import load_note, machine, start_sandbox, stop

from bluum_readiness.failures import NotVerifiable
from bluum_readiness.integration import Credentials
from bluum_readiness.suite.ratelimit import SharedRateLimiter
from bluum_readiness.suite.session import SuiteSession

KEY, SECRET = "bench_rate_key", "bench-rate-secret-0123456789abcdef"


def worker(base: str, limiter_path: str, rate: float, share: int, ready: Any, go: Any, out: Any) -> None:
    """One process of the run: a session against the twin sharing the limiter; (sent, 429s, first, last)."""
    limiter = SharedRateLimiter(limiter_path, rate)
    session = SuiteSession.against(base, Credentials(KEY, SECRET), limiter=limiter)
    too_many = 0
    assert session.proxy is not None
    with session.harness() as h, httpx.Client(base_url=session.proxy.base_url, auth=(KEY, SECRET)) as via_proxy:
        ready.put(True)
        go.wait()
        first = time.time()
        for i in range(share):
            if i % 2 == 0:
                try:
                    h.call("GET", "/assets", params={"limit": "1"}, expect=200)
                except NotVerifiable:  # refused a fourth time (Harness._rate_limited): the last 429 of that call
                    too_many += 1
            else:
                too_many += via_proxy.get("/assets", params={"limit": "1"}).status_code == 429
        last = time.time()
        too_many += len(h.evidence.get("target_rate_limited_suite", ()))  # the suite's own 429s, each waited out
    session.close()
    out.put((share, too_many, first, last))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests in the run, N (default 200: 20 s)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes, as -n (default 4)")
    parser.add_argument("--rate", type=float, default=10.0, help="the twin's and the limiter's rate (default 10/s)")
    parser.add_argument("--quick", action="store_true", help="12 requests, 2 workers, 20/s (a smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.workers, args.rate = 12, 2, 20.0
    if args.requests < 1 or args.workers < 1 or args.rate <= 0:
        parser.error("--requests and --workers must be at least 1, --rate > 0")

    print(machine())
    twin, base = start_sandbox(None, rate_limit=args.rate, key=KEY, secret=SECRET)
    limiter = SharedRateLimiter.create(args.rate)
    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    base_share, extra = divmod(args.requests, args.workers)
    shares = [base_share + (1 if i < extra else 0) for i in range(args.workers)]
    try:
        path = str(limiter.path)
        procs = [ctx.Process(target=worker, args=(base, path, args.rate, s, ready, go, out)) for s in shares]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=60)
        time.sleep(1.0 + 1.0 / args.rate)  # the start-up requests' tokens are back in the twin's bucket
        load_before = load_note()
        go.set()
        results = [out.get(timeout=args.requests / args.rate * 3 + 60) for _ in procs]
        for p in procs:
            p.join()
    finally:
        limiter.remove()
        stop(twin)

    sent = sum(r[0] for r in results)
    too_many = sum(r[1] for r in results)
    wall = max(r[3] for r in results) - min(r[2] for r in results)
    ideal = sent / args.rate
    efficiency = ideal / wall
    print(f"method: {args.workers} worker process(es) sharing one SharedRateLimiter({args.rate:g}/s), each a "
          "SuiteSession against the twin; requests alternate between the suite's own client and the fault proxy; "
          "wall = first request sent to last answer received (time.time across processes)")  # fmt: skip
    print(f"twin: bluum-readiness sandbox --rate-limit {args.rate:g} --fast; {load_before}")
    print(f"\nrequests: {sent}   wall: {wall:.2f} s   ideal N/rate: {ideal:.2f} s   efficiency: {efficiency:.1%}")
    print(f"429s the run caused itself: {too_many}")
    holds = efficiency >= 0.9 and too_many == 0
    print(f"target >= 90% efficiency with no self-caused 429: {'holds' if holds else 'does NOT hold'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
