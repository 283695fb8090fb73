"""Test helpers for webhook delivery: a recording receiver on a real socket, and signature checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness._serving import BackgroundServer
from bluum_readiness.harness import poll as bounded_poll


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class Receiver:
    """Records every POST to ``/hook``; answers the statuses in ``plan`` in turn, then ``default``."""

    def __init__(self, plan: list[int] | None = None, default: int = 200, **server: Any) -> None:
        self.plan = list(plan or [])
        self.default = default
        self.received: list[Received] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/hook", self._handle, methods=["POST"])])
        self.server = BackgroundServer(app, **server)
        self.url = f"{self.server.url}/hook"

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(Received(dict(request.headers), body))
            status = self.plan.pop(0) if self.plan else self.default
        return Response(status_code=status)

    def events(self) -> list[str]:
        with self._lock:
            return [r.json["event"] for r in self.received]

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 5.0) -> None:
        """Poll (bounded) until ``predicate(self)`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver condition not met within {timeout} s; got {self.events()}")
            time.sleep(0.01)


@contextmanager
def receiver(plan: list[int] | None = None, default: int = 200, **server: Any) -> Iterator[Receiver]:
    r = Receiver(plan, default, **server)
    with r.server:
        yield r


def poll(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll (bounded) until ``check()`` returns something truthy; return it."""
    result = bounded_poll(check, bool, timeout, interval=0.01)
    if not result:
        raise AssertionError(f"condition not met within {timeout} s")
    return result


def expected_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks v1 signature computed by hand (independent of the twin's signer)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def create_webhook(client: httpx.Client, url: str, names: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    r = client.post("/webhooks", json={"url": url, "eventTypeNames": names or ["*"], "name": "test hook", **extra})
    assert r.status_code == 201, r.text
    hook: dict[str, Any] = r.json()
    return hook


def sandbox(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Call a sandbox control with ``client``'s credentials (its base URL ends in /v1)."""
    base = str(client.base_url).rstrip("/").removesuffix("/v1")
    return client.request(method, f"{base}/_sandbox{path}", **kwargs)


def key_client(inproc: Any, key: str, secret: str) -> httpx.Client:
    """An in-process client authenticating with an arbitrary key pair (close it, or use ``with``)."""
    from bluum_readiness.twin.engine import KeyPair

    client: httpx.Client = inproc.client_for(KeyPair(key=key, secret=secret, tenant_id="", created=0.0))
    return client
