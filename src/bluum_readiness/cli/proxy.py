"""``bluum-readiness proxy``: run the fault-injecting proxy in the foreground (see docs/fault-plans.md)."""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bluum_readiness.errors import ConfigError
from bluum_readiness.redaction import mask_key_ids

if TYPE_CHECKING:
    from bluum_readiness.proxy import Exchange


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "proxy",
        help="run the fault-injecting proxy in front of the Bluum API or the twin",
        description="Forward requests to --upstream, injecting the faults of --plan (a TOML file, see "
        "docs/fault-plans.md). A control API under /__proxy/ changes faults and lists exchanges while it runs.",
    )
    p.add_argument("--upstream", required=True, help="the API base URL, e.g. http://127.0.0.1:8787/v1")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8788, help="port to listen on, 0 for any free port (default: 8788)")
    p.add_argument("--plan", type=Path, help="a TOML fault plan (default: no faults, pure pass-through)")
    p.add_argument("--record", type=Path, help="append every exchange to this file as JSON lines")
    p.set_defaults(handler=run, imports=("bluum_readiness.proxy",))


def run(args: argparse.Namespace) -> int:
    from bluum_readiness.proxy import Plan, ProxyServer  # the server (httpx, uvicorn: ~0.3 s), when it runs
    from bluum_readiness.proxy.server import parse_upstream

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port; use 0-65535")
    parse_upstream(args.upstream)
    plan = Plan.from_toml(args.plan) if args.plan else Plan()
    sink = _open_record(args.record) if args.record else None
    proxy = ProxyServer(args.upstream, plan, host=args.host, port=args.port)
    if sink is not None:
        proxy.recorder.subscribe(_writer(sink))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with proxy:
        gc.freeze()  # start-up's objects never need collecting: full collections then scan only what came after
        print(f"bluum-readiness proxy listening on {proxy.base_url}  (upstream: {args.upstream})")
        described = f"{len(plan.rules)} rule(s) from {args.plan}, seed {plan.seed}" if args.plan else "none"
        print(f"faults: {described}; control API: {proxy.url}/__proxy/")
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            if sink is not None:
                sink.close()
    return 0


def _open_record(path: Path) -> TextIO:
    try:
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--record {path} cannot be opened ({exc.strerror}); pass a writable file path") from None


def _writer(sink: TextIO) -> Any:
    lock = threading.Lock()

    def write(exchange: Exchange) -> None:
        with lock:
            if not sink.closed:
                # key ids masked as in every report (secrets are never recorded): a record kept in the project
                # must not read as a leaked key to the next secret scan
                sink.write(mask_key_ids(json.dumps(exchange.to_dict())) + "\n")
                sink.flush()

    return write
