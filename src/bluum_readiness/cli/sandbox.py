"""``bluum-readiness sandbox``: run the embedded sandbox twin in the foreground."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

from bluum_readiness.errors import ConfigError
from bluum_readiness.twin import Twin, TwinSettings


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "sandbox",
        help="run the embedded Bluum sandbox twin",
        description="Run a local, faithful emulator of the Bluum sandbox API (see docs/sandbox-twin.md). "
        "BLUUM_API_KEY and BLUUM_API_SECRET in the environment seed the tenant key pair.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port to listen on, 0 for any free port (default: 8787)")
    p.add_argument(
        "--db",
        default="bluum-sandbox.sqlite3",
        help="SQLite file for all state, or :memory: (default: %(default)s)",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="requests/s per key pair, 0.001 to 1000000; below 1, one request every 1/rate s "
        "(default: 10, Bluum's sandbox limit; with --fast a generous 1000)",
    )
    p.add_argument(
        "--lenient-idempotency",
        action="store_true",
        help="accept deposits and withdrawals without an Idempotency-Key",
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="no artificial delays (KYC, transfers, fills), quick webhook retries and a generous rate limit",
    )
    p.set_defaults(handler=run, imports=("uvicorn", "bluum_readiness._serving", "bluum_readiness.twin.app"))


def settings_of(args: argparse.Namespace) -> TwinSettings:
    """The twin's settings from the flags: ``--fast`` is the fast preset, and a flag given explicitly wins over it
    (``--rate-limit`` left out keeps the preset's limit: 1000/s with ``--fast``, Bluum's 10/s without)."""
    overrides: dict[str, Any] = {"db_path": args.db, "lenient_idempotency": args.lenient_idempotency}
    if args.rate_limit is not None:
        overrides["rate_limit_per_s"] = args.rate_limit
    return TwinSettings.fast(**overrides) if args.fast else TwinSettings.from_mapping(overrides)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port; use 0-65535")
    settings = settings_of(args)
    key, secret = os.environ.get("BLUUM_API_KEY"), os.environ.get("BLUUM_API_SECRET")
    if bool(key) != bool(secret):
        raise ConfigError("set both BLUUM_API_KEY and BLUUM_API_SECRET to seed the twin's key pair, or neither")
    from bluum_readiness._serving import bind  # uvicorn and the app (~0.3 s) once the command serves

    sock = bind(args.host, args.port)
    try:
        twin = Twin(settings)
    except BaseException:  # e.g. not a usable database: the port is let go with the one-line error
        sock.close()
        raise
    try:
        return _serve(settings, sock, twin, key, secret)
    finally:
        twin.close()
        sock.close()


def _serve(settings: TwinSettings, sock: socket.socket, twin: Twin, key: str | None, secret: str | None) -> int:
    """Seed or create the tenant pair, say where the twin listens, and serve on ``sock`` until stopped."""
    created = twin.ensure_tenant(key=key, secret=secret)
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    print(
        f"Bluum sandbox twin listening on http://{shown_host}:{port}/v1  (state: {settings.db_path}; "
        f"rate limit {settings.rate_limit_per_s:g} requests/s per key pair)"
    )
    if created is not None and not key:
        print("A tenant key pair was created. The secret is shown once; keep it in your secret manager:")
        print(f"  BLUUM_API_KEY={created.key}")
        print(f"  BLUUM_API_SECRET={created.secret}")
    elif key:
        print("Using the key pair from BLUUM_API_KEY / BLUUM_API_SECRET.")
    sys.stdout.flush()
    import uvicorn

    from bluum_readiness._serving import uvicorn_options
    from bluum_readiness.twin import create_app

    config = uvicorn.Config(create_app(twin=twin), log_level="warning", lifespan="on", **uvicorn_options())
    uvicorn.Server(config).run(sockets=[sock])
    return 0
