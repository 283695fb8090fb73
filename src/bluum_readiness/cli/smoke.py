"""``bluum-readiness smoke``: the cut-over smoke test (one read-only request) against any Bluum base URL.

Against production, after access is granted, this is the real smoke test of the checklist's cut-over phase (what
``bluum-readiness run`` can only rehearse before). ``--out DIR`` writes its short report: ``smoke.json`` (the
request, the answer, where it ran, when) and ``smoke.md``; never a secret (the key id is shown abridged).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluum_readiness.cli._out import writable_folder
from bluum_readiness.errors import ConfigError
from bluum_readiness.integration import Credentials
from bluum_readiness.suite.results import environment_of
from bluum_readiness.target import parse_target

if TYPE_CHECKING:
    from bluum_readiness.smoke import SmokeResult

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
        help="the API base URL ending in /v1, e.g. https://api.bluumfinance.com/v1 (default: $BLUUM_API_BASE_URL, "
        "the variable adapters get too)",
    )
    p.add_argument("--timeout", type=seconds, default=10.0, help="seconds to wait for the answer (default: 10)")
    p.add_argument("--out", metavar="DIR", help="also write the short report smoke.json and smoke.md into DIR")
    p.set_defaults(handler=run, imports=("bluum_readiness.smoke",))


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
    if parse_target(target, what="--target") is None:  # the one rule for a base URL (ConfigError otherwise)
        raise ConfigError("smoke needs the API base URL of a real environment, not 'embedded'")
    out = writable_folder(args.out, files=SMOKE_FILES, folders=()) if args.out is not None else None
    credentials = credentials_from_env()
    from bluum_readiness.smoke import smoke_test  # httpx (~0.1 s), once the request is made

    result = smoke_test(target, credentials, timeout_s=args.timeout)
    mark = "✓" if result.ok else "✗"
    print(f"{mark} smoke test GET {result.url}: {result.message}")
    if out is not None:
        for path in write_report(result, target, credentials.key, out):
            print(f"{path.name}: {path.resolve()}")
    return 0 if result.ok else 3


SMOKE_FILES = ("smoke.json", "smoke.md")


def _abridged(key: str) -> str:
    return key if len(key) <= 12 else f"{key[:12]}…{key[-4:]}"


def write_report(result: SmokeResult, target: str, key: str, out: Path) -> list[Path]:
    """smoke.json and smoke.md: the one request and its answer, where it ran (production or not), and when."""
    remote = parse_target(target, what="--target")
    host = remote.host if remote is not None else target
    environment = environment_of({"mode": "remote", "host": host})
    record = {
        "check": "smoke-test.read-only-200",
        "item": "smoke-test",
        "phase": "cut-over",
        "status": "passed" if result.ok else "failed",
        "environment": environment,
        "target": target,
        "request": {"method": "GET", "url": result.url, "key_id": _abridged(key)},
        "answer": {
            "status": result.status,
            "code": result.code,
            "request_id": result.request_id,
            "duration_ms": round(result.duration_ms, 1),
        },
        "rate_limited_waits_s": list(result.rate_limited_waits),
        "message": result.message,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "smoke.json"
    json_path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    where = "Bluum production" if environment == "production" else f"{target} (not production: a rehearsal)"
    verdict = "PASSED" if result.ok else "FAILED"
    lines = [
        f"# Bluum cut-over smoke test: **{verdict}**",
        "",
        f"- Where: {where}",
        f"- Request: `GET {result.url}` (read-only), key `{_abridged(key)}`",
        f"- Answer: {result.status if result.status is not None else 'none'}"
        + (f" `{result.code}`" if result.code else "")
        + (f", X-Request-Id `{result.request_id}`" if result.request_id else "")
        + f", {result.duration_ms:.0f} ms",
        f"- {result.message}",
        f"- Run: {record['finished']}",
        "",
    ]
    md_path = out / "smoke.md"
    md_path.write_text("\n".join(lines), encoding="utf-8")
    return [json_path, md_path]
