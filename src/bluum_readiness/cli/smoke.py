"""``bluum-readiness smoke``: the cut-over smoke test (one read-only request) against any Bluum base URL."""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

from bluum_readiness.errors import ConfigError
from bluum_readiness.integration import Credentials
from bluum_readiness.smoke import smoke_test
from bluum_readiness.target import parse_target

MAX_TIMEOUT_S = 600.0


def seconds(text: str) -> float:
    """``--timeout``: a finite number of seconds above 0 and at most ``MAX_TIMEOUT_S`` (argparse says what is wrong)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds, e.g. 10") from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"{text} must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}")
    return value


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "smoke",
        help="one read-only request to check a base URL and credentials (safe against production)",
        description="Send GET /assets?asset_class=us_equity&tradable=true&limit=1 with the credentials in "
        "BLUUM_API_KEY / BLUUM_API_SECRET. Exit 0 on 200, 3 otherwise (401: the key or secret was not updated).",
    )
    p.add_argument(
        "--target",
        default=os.environ.get("BLUUM_BASE_URL"),
        help="the API base URL ending in /v1, e.g. https://api.bluumfinance.com/v1 (default: $BLUUM_BASE_URL)",
    )
    p.add_argument("--timeout", type=seconds, default=10.0, help="seconds to wait for the answer (default: 10)")
    p.set_defaults(handler=run)


def credentials_from_env() -> Credentials:
    key, secret = os.environ.get("BLUUM_API_KEY"), os.environ.get("BLUUM_API_SECRET")
    if not key or not secret:
        raise ConfigError(
            "set BLUUM_API_KEY and BLUUM_API_SECRET (from your secret manager) for the environment you test; "
            "credentials are never taken from the command line"
        )
    return Credentials(key, secret)


def run(args: argparse.Namespace) -> int:
    if not args.target:
        raise ConfigError(
            "pass --target with the API base URL (e.g. https://api.bluumfinance.com/v1) or set BLUUM_BASE_URL"
        )
    if parse_target(args.target, what="--target") is None:  # the one rule for a base URL (ConfigError otherwise)
        raise ConfigError("smoke needs the API base URL of a real environment, not 'embedded'")
    result = smoke_test(args.target, credentials_from_env(), timeout_s=args.timeout)
    mark = "✓" if result.ok else "✗"
    print(f"{mark} smoke test GET {result.url}: {result.message}")
    return 0 if result.ok else 3
