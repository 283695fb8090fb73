"""``BluumClient``: the Bluum API calls the reference integration needs, over one ``httpx.Client``.

Every call goes through ``_call``, which is where the readiness behaviours meet:

- every POST carries an ``Idempotency-Key``: a fresh ``uuid4`` per logical operation, made once before the
  first attempt and sent unchanged on every retry (deposits and withdrawals require it, orders should have
  it, and it makes every other create safe to retry after a lost response);
- retries follow the ``RetryPolicy`` (``_retry``); the credentials follow rotation (``_auth``);
- every exchange is recorded (``_log``); errors become the exception tree of ``_exceptions``.

Paths are relative to ``base_url`` (which ends in ``/v1``): the client never names a host of its own.
"""

from __future__ import annotations

import mimetypes
import random
import time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness.integration import Credentials
from bluum_readiness.reference._auth import RotatingBasicAuth
from bluum_readiness.reference._log import OPERATION, LoggingTransport, Operation, RequestLog
from bluum_readiness.reference._retry import RetryPolicy, call_with_retries
from bluum_readiness.reference._translate import error_from_response, error_from_transport

__all__ = ["BluumClient", "new_idempotency_key"]

Json = dict[str, Any]


def new_idempotency_key() -> str:
    """A fresh key for one logical operation: a random UUID (122 bits; never a counter or a timestamp)."""
    return str(uuid.uuid4())


class BluumClient:
    """A small, synchronous Bluum API client with retries, idempotency keys, rotation-aware auth and a request log.

    :param base_url: the API root, ending in ``/v1`` (e.g. ``IntegrationEnv.base_url``).
    :param credentials: returns the current key pair; called for every request.
    :param policy: retries, backoff and the per-request timeout.
    :param transport: the httpx transport (tests pass ``httpx.MockTransport``); default: real HTTP.
    :param rng: the jitter's random source (tests pass a seeded one); default: seeded from the OS.
    :param sleep: how to wait between attempts (tests pass a recorder); default: ``time.sleep``.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Callable[[], Credentials],
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.policy = policy if policy is not None else RetryPolicy()
        self.log = RequestLog()
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep if sleep is not None else time.sleep
        self._http = httpx.Client(
            base_url=base_url,
            auth=RotatingBasicAuth(credentials, sleep=self._sleep, refresh_wait_s=self.policy.base_s),
            timeout=self.policy.timeout_s,
            transport=LoggingTransport(
                transport if transport is not None else httpx.HTTPTransport(verify=tls_context_for(base_url)), self.log
            ),
            headers={"Accept": "application/json", "User-Agent": "bluum-readiness-reference"},
        )

    # -- investors and documents ----------------------------------------------------------------------------

    def create_investor(self, profile: Mapping[str, Any]) -> Json:
        return self._call("POST", "/investors", json=profile)

    def get_investor(self, investor_id: str) -> Json:
        return self._call("GET", f"/investors/{investor_id}")

    def upload_document(
        self, investor_id: str, *, document_type: str, purpose: str, file_name: str, content: bytes
    ) -> Json:
        """``POST /documents`` as multipart: the fields and the file under ``document``."""
        mime = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        fields = {"document_type": document_type, "purpose": purpose, "investor_id": investor_id}
        return self._call("POST", "/documents", data=fields, files={"document": (file_name, content, mime)})

    # -- funding sources ------------------------------------------------------------------------------------

    def create_plaid_link_token(self, investor_id: str) -> Json:
        return self._call("POST", f"/investors/{investor_id}/funding-sources/plaid/link-token", json={})

    def connect_plaid(self, investor_id: str, body: Mapping[str, Any]) -> list[Json]:
        """Connect the accounts behind a Plaid ``public_token``; Bluum answers with a list of funding sources."""
        answer = self._call("POST", f"/investors/{investor_id}/funding-sources/connect", json=body)
        sources: list[Json] = answer["data"]
        return sources

    def connect_manual(self, investor_id: str, body: Mapping[str, Any]) -> Json:
        return self._call("POST", f"/investors/{investor_id}/funding-sources/connect", json=body)

    # -- money movement -------------------------------------------------------------------------------------

    def create_deposit(
        self,
        investor_id: str,
        amount: str,
        *,
        method: str = "ach",
        funding_source_id: str | None = None,
        currency: str = "USD",
        idempotency_key: str | None = None,
    ) -> Json:
        """``POST …/deposits``. Pass ``idempotency_key`` to resume an operation you persisted before a crash."""
        body = _transfer(amount, method, funding_source_id, currency)
        return self._call("POST", f"/investors/{investor_id}/deposits", json=body, idempotency_key=idempotency_key)

    def get_deposit(self, investor_id: str, deposit_id: str) -> Json:
        return self._call("GET", f"/investors/{investor_id}/deposits/{deposit_id}")

    def create_withdrawal(
        self,
        investor_id: str,
        amount: str,
        *,
        method: str = "ach",
        funding_source_id: str | None = None,
        currency: str = "USD",
        idempotency_key: str | None = None,
    ) -> Json:
        """``POST …/withdrawals``; the amount is held at once (over the withdrawable cash: ``InsufficientFunds``)."""
        body = _transfer(amount, method, funding_source_id, currency)
        path = f"/investors/{investor_id}/withdrawals"
        return self._call("POST", path, json=body, idempotency_key=idempotency_key)

    def get_withdrawal(self, investor_id: str, withdrawal_id: str) -> Json:
        return self._call("GET", f"/investors/{investor_id}/withdrawals/{withdrawal_id}")

    def get_wallet(self, investor_id: str) -> Json:
        """The investor's USD wallet (balance, available and withdrawable cash, buying power, equity)."""
        wallets = self._call("GET", f"/investors/{investor_id}/wallets")["data"]
        wallet: Json = next(w for w in wallets if w.get("currency", "USD") == "USD")
        return wallet

    # -- trading --------------------------------------------------------------------------------------------

    def get_asset(self, symbol: str) -> Json:
        """One asset of the catalogue, with its current (simulated, in the sandbox) ``price``."""
        return self._call("GET", f"/assets/{symbol}")

    def place_order(self, investor_id: str, order: Mapping[str, Any], *, idempotency_key: str | None = None) -> Json:
        return self._call("POST", f"/investors/{investor_id}/orders", json=order, idempotency_key=idempotency_key)

    def get_order(self, investor_id: str, order_id: str) -> Json:
        return self._call("GET", f"/investors/{investor_id}/orders/{order_id}")

    def cancel_order(self, investor_id: str, order_id: str) -> Json:
        return self._call("POST", f"/investors/{investor_id}/orders/{order_id}/cancel")

    def list_positions(self, investor_id: str) -> list[Json]:
        """Every position, following ``has_more`` through the pages."""
        positions: list[Json] = []
        while True:
            page = self._call(
                "GET", f"/investors/{investor_id}/positions", params={"limit": 200, "offset": len(positions)}
            )
            positions += page["data"]
            if not page.get("has_more") or not page["data"]:
                return positions

    # -- plumbing -------------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, idempotency_key: str | None = None, **kwargs: Any) -> Json:
        """One logical operation: retried per the policy, with one Idempotency-Key for all its attempts."""
        headers: dict[str, str] = {}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or new_idempotency_key()
        operation = Operation()

        def attempt() -> httpx.Response:
            request = self._http.build_request(
                method, path, headers=headers, extensions={OPERATION: operation}, **kwargs
            )
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                raise error_from_transport(exc, method=method, path=request.url.path) from exc
            if not response.is_success:
                raise error_from_response(response)
            return response

        response = call_with_retries(attempt, self.policy, rng=self._rng, sleep=self._sleep)
        body: Json = response.json() if response.content else {}
        return body

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BluumClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BluumClient(base_url={str(self._http.base_url)!r}, policy={self.policy!r})"


def _transfer(amount: str, method: str, funding_source_id: str | None, currency: str) -> Json:
    body: Json = {"amount": amount, "currency": currency, "method": method}
    if funding_source_id is not None:
        body["funding_source_id"] = funding_source_id
    return body
