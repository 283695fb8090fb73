"""The cut-over smoke test: one read-only request that proves the base URL and credentials work.

``GET /assets?asset_class=us_equity&tradable=true&limit=1`` — Bluum's documented smoke test. It never
writes, so it is safe against production. Production's key pair is the live application's too, and the rate limit
is per key pair: a 429 is waited out (its ``Retry-After``, at most 10 s) up to ``RATE_LIMITED_RETRIES`` times and
the request sent again — safe, it is read-only — and the result says how long it waited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness._retry_after import CAP_S, retry_after_s
from bluum_readiness.integration import Credentials

__all__ = ["RATE_LIMITED_RETRIES", "SMOKE_PATH", "SmokeResult", "not_the_api", "smoke_test"]

SMOKE_PATH = "/assets"
SMOKE_QUERY = {"asset_class": "us_equity", "tradable": "true", "limit": "1"}
RATE_LIMITED_RETRIES = 3
NOT_THE_API = (
    "this is not Bluum's API answering (a website, a sign-in page or a proxy at that URL, which answers 200 to any "
    "path and ignores the key pair); point the base URL at the API, ending in /v1"
)


def not_the_api(response: httpx.Response) -> str | None:
    """Why a 2xx answer to a read of Bluum's API cannot have come from it — its body is not JSON, or JSON that is
    neither an object nor a list — or None. A single-page website answers 200 with its HTML to every path, whatever
    the credentials: a status alone proves neither the base URL nor the key pair."""
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
        return f"its body is not JSON ({kind}, {len(response.content)} bytes)"
    if not isinstance(body, dict | list):
        return f"its body is JSON but neither an object nor a list ({type(body).__name__})"
    return None


def _error_code(response: httpx.Response) -> str | None:
    """Bluum's error code of a refusal (``{"error": {"code": …}}``), or None when the body holds none."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


@dataclass(frozen=True)
class SmokeResult:
    """What the smoke request showed (its last answer). ``ok`` only for a 200 from Bluum's API (``not_api``: why a
    200 cannot have come from it). ``rate_limited_waits``: the seconds waited after each 429 before sending it
    again."""

    url: str
    status: int | None
    code: str | None
    request_id: str | None
    duration_ms: float
    message: str
    rate_limited_waits: tuple[float, ...] = ()
    not_api: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.not_api is None


def smoke_test(base_url: str, credentials: Credentials, *, timeout_s: float = 10.0,
               transport: httpx.BaseTransport | None = None,
               sleep: Callable[[float], None] = time.sleep) -> SmokeResult:  # fmt: skip
    """Send the smoke request to ``base_url`` (ending in /v1) and explain the answer; a 429 is waited out
    (``sleep``) and the request sent again, up to ``RATE_LIMITED_RETRIES`` times."""
    url = base_url.rstrip("/") + SMOKE_PATH
    waits: list[float] = []
    try:
        with httpx.Client(timeout=timeout_s, transport=transport, verify=tls_context_for(url)) as client:
            while True:
                response = client.get(url, params=SMOKE_QUERY, auth=(credentials.key, credentials.secret))
                if response.status_code != 429 or len(waits) == RATE_LIMITED_RETRIES:
                    break
                waits.append(min(retry_after_s(response.headers.get("retry-after")), CAP_S))
                sleep(waits[-1])
    except httpx.HTTPError as exc:
        return SmokeResult(url, None, None, None, 0.0, f"no answer from {url}: {exc}; check the base URL and network")
    duration = response.elapsed.total_seconds() * 1000
    request_id = response.headers.get("x-request-id")
    ok = response.status_code == 200
    not_api, code = (not_the_api(response), None) if ok else (None, _error_code(response))
    waited = (
        f" after {len(waits)} rate-limited answer{'s' if len(waits) > 1 else ''} (429; waited "
        f"{sum(waits):g} s as Retry-After asked)"
        if waits
        else ""
    )
    if not_api is not None:
        message = f"200 in {duration:.0f} ms, but {not_api}: {NOT_THE_API}"
    elif response.status_code == 200:
        message = f"200 OK in {duration:.0f} ms (request {request_id}){waited}: base URL and credentials work"
    elif response.status_code == 401:
        message = (
            f"401 ({code or 'unauthorized'}, request {request_id}): the key or secret was not updated — "
            "check that this environment's key pair is the one deployed"
        )
    elif response.status_code == 429:
        message = (
            f"429 ({code or 'rate limited'}, request {request_id}) {len(waits) + 1} times, waiting out each "
            f"Retry-After ({sum(waits):g} s in all): this key pair's rate limit is in use by another client (the live "
            "application, another job); run the smoke test again when it is quieter"
        )
    else:
        message = f"{response.status_code} ({code or 'no Bluum code'}, request {request_id}): the smoke request failed"
    return SmokeResult(url, response.status_code, code, request_id, duration, message, tuple(waits), not_api)
