"""A deliberately plain Bluum integration with knobs, to build known-bad (and correct-but-different) adapters.

With its defaults it is a *correct* integration that shares no code with the reference: an explicit retry
loop instead of tenacity, other backoff constants ("equal jitter" instead of full jitter), its own log.
Each known-bad variant turns exactly one knob (see ``variants.py``).

Like the reference's factory it takes ``transport=``, ``sleep=`` and ``rng=`` (a virtual-time session passes the
in-process proxy's transport and its virtual sleep; every wait between attempts goes through ``sleep``).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import count
from typing import Any

import httpx

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.integration import IntegrationEnv

log = logging.getLogger("tests.integrations.configurable")
_counter = count(1)


@dataclass(frozen=True)
class Knobs:
    key_mode: str = "uuid"  # uuid | none | per_attempt | deposits_only | counter | timestamp | fixed
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    retry_on_timeout: bool = True  # False: a request that timed out is not retried (raised)
    retry_on_drop: bool = True  # False: a connection that dropped or reset without an answer is not retried
    base_s: float = 0.02
    cap_s: float = 0.5
    jitter: bool = True
    honour_retry_after: bool = True
    max_attempts: int = 6
    refresh_on_401: bool = True
    max_401_retries: int = 1  # a large number = "loops on 401"
    log_secret: bool = False
    cache_credentials: bool = False
    log_request_ids: bool = True  # False: the request log (and the log lines) have no X-Request-Id
    log_auth_header: bool = False  # True: the request log keeps the Authorization header (the secret)
    client_timeout: bool = True  # False: the HTTP client has no timeout (a hung request waits forever)
    timeout_s: float | None = None  # its own request timeout, instead of the one the suite gives (request_timeout_s)
    secret_in_errors: bool = False  # True: a refusal's exception quotes the Authorization header (the secret)
    log_failures: bool = True  # False: exchanges that got no answer are neither recorded nor logged
    log_fields: bool = False  # True: log records with structured extras (request_id, method, path, status, duration_ms)
    swallow_4xx: bool = False  # True: a refusal (4xx but 401/429) returns an empty result, logged at INFO only
    log_error_bodies: bool = False  # True: a failed request is logged whole, its body included (personal data)
    coloured_errors: bool = False  # True: a refusal's message is coloured for a terminal and cut mid-emoji

    def but(self, **changes: Any) -> Knobs:
        return replace(self, **changes)


class CallFailed(Exception):
    def __init__(self, status: int | None, code: str | None, message: str, request_id: str | None) -> None:
        super().__init__(f"{status} {code}: {message} (request {request_id})")
        self.status, self.code, self.request_id = status, code, request_id


class ConfigurableIntegration:
    def __init__(
        self,
        env: IntegrationEnv,
        knobs: Knobs,
        seed: int = 7,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.env = env
        self.knobs = knobs
        self.rng = rng if rng is not None else random.Random(seed)
        self.sleep = sleep if sleep is not None else time.sleep
        timeout = (knobs.timeout_s or env.request_timeout_s) if knobs.client_timeout else None
        # one shared TLS context (as the suite's own clients): each new default one costs ~18 ms of CPU
        self.http = httpx.Client(
            base_url=env.base_url, timeout=timeout, transport=transport, verify=default_tls_context()
        )
        self._pair = env.credentials()
        self._log: list[dict[str, Any]] = []

    # -- plumbing -------------------------------------------------------------------------------------------

    def _credentials(self, refresh: bool = False) -> httpx.BasicAuth:
        if refresh or not self.knobs.cache_credentials:
            self._pair = self.env.credentials()
        if self.knobs.log_secret:
            log.info("using API key %s with secret %s", self._pair.key, self._pair.secret)
        return httpx.BasicAuth(self._pair.key, self._pair.secret)

    def _key(self, kind: str) -> str | None:
        mode = self.knobs.key_mode
        if mode == "none" or (mode == "deposits_only" and kind != "deposits"):
            return None
        if mode == "counter":
            return f"op-{next(_counter):012d}"
        if mode == "timestamp":
            return f"op-{time.time_ns()}"
        if mode == "fixed":
            return "00000000-0000-4000-8000-000000000000"
        return str(uuid.uuid4())

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        ceiling = min(self.knobs.cap_s, self.knobs.base_s * 2**attempt)
        wait = ceiling / 2 + self.rng.uniform(0, ceiling / 2) if self.knobs.jitter else ceiling
        if response is not None and self.knobs.honour_retry_after and "retry-after" in response.headers:
            wait = max(wait, float(response.headers["retry-after"]))
        return wait

    def _request(self, method: str, path: str, *, kind: str = "", **kwargs: Any) -> Any:
        key = self._key(kind) if method == "POST" and kind else None
        auth = self._credentials()
        refreshes = 0
        attempt = 0
        while True:
            if self.knobs.key_mode == "per_attempt" and key is not None:
                key = str(uuid.uuid4())
            headers = {"Idempotency-Key": key} if key else {}
            started = time.monotonic()
            try:
                response = self.http.request(method, path, auth=auth, headers=headers, **kwargs)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                if self.knobs.log_failures:
                    self._record(method, path, None, None, started)
                    if self.knobs.log_fields:
                        failure = {"method": method, "path": path, "error": f"{type(exc).__name__}: {exc}"}
                        log.warning("bluum request failed", extra=failure)
                    else:
                        log.warning("%s %s -> no response (%s: %s)", method, path, type(exc).__name__, exc)
                attempt += 1
                retryable = (
                    self.knobs.retry_on_timeout if isinstance(exc, httpx.TimeoutException) else self.knobs.retry_on_drop
                )
                if not retryable or attempt >= self.knobs.max_attempts:
                    raise
                self.sleep(self._wait(attempt, None))
                continue
            self._record(method, path, response.status_code, response.headers.get("x-request-id"), started,
                         response.request.headers.get("authorization"))  # fmt: skip
            if self.knobs.log_error_bodies and response.status_code >= 400:  # what console.error(axiosError) shows
                sent = response.request.content.decode(errors="replace")
                log.error("Bluum API error: %s %s -> %s; request %s; response %s", method, path,
                          response.status_code, sent, response.text)  # fmt: skip
            if response.status_code == 401 and self.knobs.refresh_on_401 and refreshes < self.knobs.max_401_retries:
                refreshes += 1
                auth = self._credentials(refresh=True)
                continue
            if response.status_code in self.knobs.retry_statuses and attempt + 1 < self.knobs.max_attempts:
                attempt += 1
                self.sleep(self._wait(attempt, response))
                continue
            if self.knobs.swallow_4xx and 400 <= response.status_code < 500 and response.status_code not in (401, 429):
                return {"id": "", "status": "", "data": []}  # as if it had worked: only the access line above tells
            if response.status_code >= 400:
                error = response.json().get("error", {}) if response.content else {}
                message = error.get("message", "")
                if self.knobs.secret_in_errors:
                    message += f" (sent with Authorization: {response.request.headers.get('authorization')})"
                if self.knobs.coloured_errors:  # ANSI red, and half of an emoji (a lone surrogate) at the end
                    message = f"\x1b[31m{message}\x1b[0m \ud83d"
                raise CallFailed(response.status_code, error.get("code"), message,
                                 response.headers.get("x-request-id"))  # fmt: skip
            return response.json() if response.content else None

    def _record(self, method: str, path: str, status: int | None, request_id: str | None, started: float,
                authorization: str | None = None) -> None:  # fmt: skip
        entry: dict[str, Any] = {"method": method, "path": path, "status": status,
                                 "request_id": request_id if self.knobs.log_request_ids else None,
                                 "duration_ms": (time.monotonic() - started) * 1000}  # fmt: skip
        if self.knobs.log_auth_header:
            entry["headers"] = {"Authorization": authorization}
        self._log.append(entry)
        if status is not None and self.knobs.log_fields:
            fields = {k: entry[k] for k in ("request_id", "method", "path", "status")}
            log.info("bluum request", extra={**fields, "duration_ms": round(entry["duration_ms"], 1)})
        elif status is not None:
            log.info("%s %s -> %s (%s)", method, path, status, request_id if self.knobs.log_request_ids else "-")

    # -- the adapter contract -------------------------------------------------------------------------------

    def create_investor(self, profile: dict[str, Any]) -> str:
        return str(self._request("POST", "/investors", json=profile)["id"])

    def upload_document(self, investor_id: str, document: dict[str, Any]) -> str:
        data = {"document_type": document["document_type"], "purpose": document.get("purpose", "KYC"),
                "investor_id": investor_id}  # fmt: skip
        files = {"document": (document["file_name"], document["content"])}
        return str(self._request("POST", "/documents", data=data, files=files)["id"])

    def kyc_status(self, investor_id: str) -> str:
        return str(self._request("GET", f"/investors/{investor_id}")["status"])

    def link_bank_account(self, investor_id: str, bank: dict[str, Any]) -> str:
        if bank.get("type") == "plaid":
            self._request("POST", f"/investors/{investor_id}/funding-sources/plaid/link-token", json={})
            linked = self._request("POST", f"/investors/{investor_id}/funding-sources/connect", json=bank)
            return str(linked["data"][0]["id"])
        return str(self._request("POST", f"/investors/{investor_id}/funding-sources/connect", json=bank)["id"])

    def _transfer(self, kind: str, investor_id: str, source: str, amount: str, method: str) -> str:
        body = {"amount": amount, "currency": "USD", "method": method, "funding_source_id": source}
        return str(self._request("POST", f"/investors/{investor_id}/{kind}", kind=kind, json=body)["id"])

    def deposit(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        return self._transfer("deposits", investor_id, funding_source_id, amount, method)

    def withdraw(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        return self._transfer("withdrawals", investor_id, funding_source_id, amount, method)

    def place_order(self, investor_id: str, order: dict[str, Any]) -> str:
        return str(self._request("POST", f"/investors/{investor_id}/orders", kind="orders", json=order)["id"])

    def get_order(self, investor_id: str, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self._request("GET", f"/investors/{investor_id}/orders/{order_id}")
        return order

    def cancel_order(self, investor_id: str, order_id: str) -> None:
        self._request("POST", f"/investors/{investor_id}/orders/{order_id}/cancel", json={})

    def positions(self, investor_id: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._request("GET", f"/investors/{investor_id}/positions")["data"]
        return data

    def request_log(self) -> list[dict[str, Any]]:
        return list(self._log)

    def close(self) -> None:
        self.http.close()


class LogsOnly(ConfigurableIntegration):
    """The same integration without the ``request_log()`` capability: the suite judges its log lines instead."""

    request_log = None  # type: ignore[assignment]
