"""``bluum-readiness smoke``: the cut-over smoke test (one read-only request) against any Bluum base URL."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bluum_readiness.errors import ConfigError
from bluum_readiness.integration import Credentials
from bluum_readiness.smoke import smoke_test


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "smoke",
        help="one read-only request to check a base URL and credentials (safe against production)",
        description="Send GET /assets?asset_class=us_equity&tradable=true&limit=1 with the credentials in "
        "BLUUM_API_KEY / BLUUM_API_SECRET. Exit 0 on 200, 3 otherwise (401: the key or secret was not updated).",
    )
    p.add_argument(
        "--target",
        help="the API base URL ending in /v1, e.g. https://api.bluumfinance.com/v1 (default: $BLUUM_API_BASE_URL, "
        "the variable adapters get too)",
    )
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer (default: 10)")
    p.set_defaults(handler=run)


BASE_URL_VARIABLE = "BLUUM_API_BASE_URL"
#: The name ``smoke`` read before it took the adapters' name; still honoured, with a deprecation line on stderr.
DEPRECATED_BASE_URL_VARIABLE = "BLUUM_BASE_URL"


def target_from_env() -> str | None:
    """The base URL from ``BLUUM_API_BASE_URL``, else from the deprecated ``BLUUM_BASE_URL`` (saying so on stderr)."""
    target = os.environ.get(BASE_URL_VARIABLE)
    old = os.environ.get(DEPRECATED_BASE_URL_VARIABLE)
    if old and not target:
        print(
            f"bluum-readiness smoke: {DEPRECATED_BASE_URL_VARIABLE} is deprecated; set {BASE_URL_VARIABLE} instead "
            "(the name adapters get)",
            file=sys.stderr,
        )
        return old
    return target


def credentials_from_env() -> Credentials:
    key, secret = os.environ.get("BLUUM_API_KEY"), os.environ.get("BLUUM_API_SECRET")
    if not key or not secret:
        raise ConfigError(
            "set BLUUM_API_KEY and BLUUM_API_SECRET (from your secret manager) for the environment you test; "
            "credentials are never taken from the command line"
        )
    return Credentials(key, secret)


def run(args: argparse.Namespace) -> int:
    target = args.target or target_from_env()
    if not target:
        raise ConfigError(
            f"pass --target with the API base URL (e.g. https://api.bluumfinance.com/v1) or set {BASE_URL_VARIABLE}"
        )
    if not target.startswith(("http://", "https://")):
        raise ConfigError(f"--target {target!r} is not an http(s) URL; e.g. https://api.bluumfinance.com/v1")
    result = smoke_test(target, credentials_from_env(), timeout_s=args.timeout)
    mark = "✓" if result.ok else "✗"
    print(f"{mark} smoke test GET {result.url}: {result.message}")
    return 0 if result.ok else 3
