"""Transport-level test doubles for the reference client: a scripted ``httpx.MockTransport`` handler, a
recording ``sleep`` and a secret source that can rotate."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bluum_readiness.integration import Credentials
from bluum_readiness.reference import BluumClient, RetryPolicy

SECRET = "s3cr3t-0f-the-partner-never-log-me-0123456789"
OLD = Credentials("test_bluum_old", SECRET)
NEW = Credentials("test_bluum_new", "n3w-s3cr3t-never-log-me-too-9876543210")
BASE_URL = "https://sandbox.example.test/v1"

_request_ids = itertools.count(1)

Step = int | httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def error(status: int, code: str | None = None, *, retry_after: str | None = None, **extra: str) -> httpx.Response:
    """A Bluum error response (the Gen C envelope) with an X-Request-Id."""
    code = code or f"BLUM-{min(status, 500)}-001"
    headers = {"X-Request-Id": f"req_{next(_request_ids):026d}"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    body = {"error": {"type": "x", "code": code, "message": f"{code} happened", **extra}}
    return httpx.Response(status, json=body, headers=headers)


def ok(request: httpx.Request) -> httpx.Response:
    """A plausible success: a resource whose id prefix follows the path."""
    prefix = {"deposits": "dep", "withdrawals": "wd", "orders": "ord", "investors": "inv"}.get(
        request.url.path.rstrip("/").split("/")[-1], "obj"
    )
    body = {"id": f"{prefix}_{next(_request_ids):026d}", "status": "pending", "data": []}
    return httpx.Response(201, json=body, headers={"X-Request-Id": f"req_{next(_request_ids):026d}"})


@dataclass
class Script:
    """A MockTransport handler: answers from ``steps`` in order (a status, a Response, an exception to raise,
    or a handler), then with ``then``. Records every request it saw."""

    steps: list[Step] = field(default_factory=list)
    then: Callable[[httpx.Request], httpx.Response] = ok
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A snapshot: the auth flow re-signs the same Request object when it refreshes credentials.
        self.requests.append(
            httpx.Request(
                request.method,
                request.url,
                headers=request.headers.copy(),
                content=request.content,
                extensions=request.extensions,
            )
        )
        step: Step = self.steps.pop(0) if self.steps else self.then
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):
            return error(step)
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def keys(self) -> list[str | None]:
        return [r.headers.get("Idempotency-Key") for r in self.requests]


class Sleeps(list[float]):
    """A ``sleep`` that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class SecretSource:
    """A secret manager: ``get`` returns the current pair and counts reads; ``rotate_after`` switches to another
    pair after a number of reads."""

    def __init__(self, pair: Credentials = OLD) -> None:
        self.pair = pair
        self.reads = 0
        self._pending: tuple[int, Credentials] | None = None

    def get(self) -> Credentials:
        self.reads += 1
        if self._pending and self.reads > self._pending[0]:
            self.pair, self._pending = self._pending[1], None
        return self.pair

    def rotate_after(self, reads: int, pair: Credentials) -> None:
        self._pending = (self.reads + reads, pair)


@dataclass
class Rig:
    """A client wired to a script, a recording sleep and a secret source."""

    client: BluumClient
    script: Script
    sleeps: Sleeps
    secrets: SecretSource


def rig(*steps: Step, seed: int = 0, secrets: SecretSource | None = None, **policy: Any) -> Rig:
    script = Script(list(steps))
    sleeps = Sleeps()
    source = secrets or SecretSource()
    client = BluumClient(
        BASE_URL,
        source.get,
        RetryPolicy(**policy),
        transport=httpx.MockTransport(script),
        rng=random.Random(seed),
        sleep=sleeps,
    )
    return Rig(client, script, sleeps, source)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)
