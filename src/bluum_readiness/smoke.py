"""The cut-over smoke test: one read-only request that proves the base URL and credentials work.

``GET /assets?asset_class=us_equity&tradable=true&limit=1`` — Bluum's documented smoke test. It never
writes, so it is safe against production.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness.integration import Credentials

__all__ = ["SMOKE_PATH", "SmokeResult", "smoke_test"]

SMOKE_PATH = "/assets"
SMOKE_QUERY = {"asset_class": "us_equity", "tradable": "true", "limit": "1"}


@dataclass(frozen=True)
class SmokeResult:
    """What the smoke request showed. ``ok`` only for a 200."""

    url: str
    status: int | None
    code: str | None
    request_id: str | None
    duration_ms: float
    message: str

    @property
    def ok(self) -> bool:
        return self.status == 200


def smoke_test(base_url: str, credentials: Credentials, *, timeout_s: float = 10.0,
               transport: httpx.BaseTransport | None = None) -> SmokeResult:  # fmt: skip
    """Send the smoke request to ``base_url`` (ending in /v1) and explain the answer."""
    url = base_url.rstrip("/") + SMOKE_PATH
    try:
        with httpx.Client(timeout=timeout_s, transport=transport, verify=tls_context_for(url)) as client:
            response = client.get(url, params=SMOKE_QUERY, auth=(credentials.key, credentials.secret))
    except httpx.HTTPError as exc:
        return SmokeResult(url, None, None, None, 0.0, f"no answer from {url}: {exc}; check the base URL and network")
    duration = response.elapsed.total_seconds() * 1000
    request_id = response.headers.get("x-request-id")
    code = None
    try:
        code = response.json().get("error", {}).get("code")
    except ValueError:
        pass
    if response.status_code == 200:
        message = f"200 OK in {duration:.0f} ms (request {request_id}): base URL and credentials work"
    elif response.status_code == 401:
        message = (
            f"401 ({code or 'unauthorized'}, request {request_id}): the key or secret was not updated — "
            "check that this environment's key pair is the one deployed"
        )
    else:
        message = f"{response.status_code} ({code or 'no Bluum code'}, request {request_id}): the smoke request failed"
    return SmokeResult(url, response.status_code, code, request_id, duration, message)
