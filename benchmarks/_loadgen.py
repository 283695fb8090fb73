"""A small closed-loop HTTP/1.1 load generator on raw asyncio streams (keep-alive, bounded connections).

Cheaper per request than any HTTP client library (requests are pre-built bytes; a response is read by its
Content-Length), so one generator process on its own core out-runs a one-core twin many times over —
the twin, not the generator, is what gets measured. Each connection sends one request, reads its
response, and sends the next: ``connections`` bounds the requests in flight.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Tally:
    requests: int = 0
    lifecycles: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int) -> None:
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1


class Conn:
    """One keep-alive connection to the twin."""

    def __init__(self, base_url: str, key: str, secret: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/")
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.head = f"Host: {self.host}:{self.port}\r\nAuthorization: Basic {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def call(self, method: str, path: str, body: Any = None, headers: str = "") -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        extra = f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n" if body is not None else ""
        request = f"{method} {self.prefix}{path} HTTP/1.1\r\n{self.head}{extra}{headers}\r\n".encode() + payload
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


Scenario = Callable[[Conn, Tally], Awaitable[None]]


def read_investor(investor_id: str) -> Scenario:
    async def step(conn: Conn, tally: Tally) -> None:
        status, _ = await conn.call("GET", f"/investors/{investor_id}")
        tally.add(status)

    return step


def deposit(investor_id: str, source_id: str) -> Scenario:
    body = {"amount": "1.00", "currency": "USD", "method": "ach", "funding_source_id": source_id}

    async def step(conn: Conn, tally: Tally) -> None:
        key = f"Idempotency-Key: bench-{uuid.uuid4()}\r\n"
        status, _ = await conn.call("POST", f"/investors/{investor_id}/deposits", body, key)
        tally.add(status)

    return step


def lifecycle(profile: Callable[[], dict[str, Any]], bank: Callable[[], dict[str, Any]]) -> Scenario:
    """Onboard an investor (create, read until active), link a bank, deposit, read the deposit, list the
    wallets and transactions: the requests an integration makes for one new customer."""

    async def step(conn: Conn, tally: Tally) -> None:
        status, data = await conn.call("POST", "/investors", profile())
        tally.add(status)
        investor_id = json.loads(data)["id"]
        while True:
            status, data = await conn.call("GET", f"/investors/{investor_id}")
            tally.add(status)
            if json.loads(data)["status"] == "active":
                break
            await asyncio.sleep(0.005)
        status, data = await conn.call("POST", f"/investors/{investor_id}/funding-sources/connect", bank())
        tally.add(status)
        source_id = json.loads(data)["data"][0]["id"]
        await deposit(investor_id, source_id)(conn, tally)
        status, data = await conn.call("GET", f"/investors/{investor_id}/deposits")
        tally.add(status)
        for path in (f"/investors/{investor_id}/wallets", f"/investors/{investor_id}/transactions"):
            status, _ = await conn.call("GET", path)
            tally.add(status)
        tally.lifecycles += 1

    return step


async def drive(base_url: str, key: str, secret: str, step: Scenario, connections: int, seconds: float) -> Tally:
    """Run ``step`` in a loop on ``connections`` connections for ``seconds``; the tally of what came back."""
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        conn = Conn(base_url, key, secret)
        await conn.open()
        try:
            while time.perf_counter() < deadline:
                await step(conn, tally)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return tally


def generator_process(
    cpu: int | None, base_url: str, key: str, secret: str, scenario: tuple[str, tuple[str, ...]],
    connections: int, seconds: float, out: Any,
) -> None:  # fmt: skip
    """Entry point of a generator process (pinned to ``cpu``): puts (tally, cpu seconds used) on ``out``."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    from bluum_readiness.testing import investor_profile, plaid_bank

    name, params = scenario
    step = {
        "read": lambda: read_investor(*params),
        "deposit": lambda: deposit(*params),
        "lifecycle": lambda: lifecycle(investor_profile, plaid_bank),
    }[name]()
    started = time.process_time()
    tally = asyncio.run(drive(base_url, key, secret, step, connections, seconds))
    out.put((tally.requests, tally.lifecycles, tally.statuses, time.process_time() - started))
