"""``ReferenceIntegration``: the adapter contract (``bluum_readiness.integration``) on top of ``BluumClient``.

The adapter only translates: contract operations in, Bluum calls out, ids back. Retries, idempotency keys,
credential refresh and the request log all live in the client, where a team's own code would put them.

Factories for ``--integration``:

- ``bluum_readiness.reference:create``: the production policy (``RetryPolicy()``, with the suite's timeout);
- ``bluum_readiness.reference:create_fast``: the same behaviour with short backoff windows
  (``FAST_POLICY``), for runs against the twin where waiting seconds proves nothing more.

When the suite hands over ``IntegrationEnv.webhook_tls`` and ``webhook_secret`` (twin mode), the integration also
serves a ``ReferenceReceiver`` (started lazily, on the first read of ``webhook_url``; stopped by ``close``).

``alerts()`` comes from an ``AlertMonitor`` fed by the request log (5xx, 429), by the order operations and order
webhooks (stuck orders) and by creates versus received webhooks (webhook failures); see ``_alerts``.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Any

import httpx

from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.reference._alerts import FAST_ALERTS, AlertMonitor, AlertPolicy
from bluum_readiness.reference._client import BluumClient
from bluum_readiness.reference._log import Exchange
from bluum_readiness.reference._retry import RetryPolicy
from bluum_readiness.webhooks.receiver import ReferenceReceiver

__all__ = ["FAST_POLICY", "ReferenceIntegration", "create", "create_fast"]

#: Backoff overrides of ``create_fast``: windows of 20 ms doubling to a 200 ms cap (Retry-After still honoured).
FAST_POLICY: dict[str, float] = {"base_s": 0.02, "cap_s": 0.2}


class ReferenceIntegration:
    """The project's exemplary integration. Operations raise the ``BluumError`` tree on failure."""

    def __init__(
        self, client: BluumClient, receiver: ReferenceReceiver | None = None, monitor: AlertMonitor | None = None
    ) -> None:
        self.client = client
        self.receiver = receiver
        self.monitor = monitor if monitor is not None else AlertMonitor()
        client.log.subscribe(self._observe)

    def _observe(self, exchange: Exchange) -> None:
        self.monitor.observe(exchange.method, exchange.path, exchange.status, exchange.request_id)

    def create_investor(self, profile: dict[str, Any]) -> str:
        return _id(self.client.create_investor(profile))

    def upload_document(self, investor_id: str, document: dict[str, Any]) -> str:
        """``document`` is ``{document_type, purpose, file_name, content: bytes}``."""
        uploaded = self.client.upload_document(
            investor_id,
            document_type=document["document_type"],
            purpose=document["purpose"],
            file_name=document["file_name"],
            content=document["content"],
        )
        return _id(uploaded)

    def kyc_status(self, investor_id: str) -> str:
        status: str = self.client.get_investor(investor_id)["status"]
        return status

    def link_bank_account(self, investor_id: str, bank: dict[str, Any]) -> str:
        """A Plaid body (``{"type": "plaid", "public_token"}``) or a manual one; returns the first ``fs_`` id."""
        kind = bank.get("type")
        if kind == "plaid":
            # The link token is what a front end hands to Plaid Link, which returns the public token; the
            # suite supplies a sandbox public token directly, but the order of calls is the real one.
            self.client.create_plaid_link_token(investor_id)
            return _id(self.client.connect_plaid(investor_id, bank)[0])
        if kind == "manual":
            return _id(self.client.connect_manual(investor_id, bank))
        raise ValueError(f"bank type {kind!r} is not supported; pass a connect body with type 'plaid' or 'manual'")

    def deposit(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        deposit_id = _id(
            self.client.create_deposit(investor_id, amount, method=method, funding_source_id=funding_source_id)
        )
        self.monitor.expect_webhook(deposit_id, "deposit")
        return deposit_id

    def withdraw(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        created = self.client.create_withdrawal(investor_id, amount, method=method, funding_source_id=funding_source_id)
        self.monitor.expect_webhook(_id(created), "withdrawal")
        return _id(created)

    def place_order(self, investor_id: str, order: dict[str, Any]) -> str:
        placed = self.client.place_order(investor_id, order)
        self.monitor.order_placed(investor_id, {"type": order.get("type"), **placed})
        self.monitor.expect_webhook(_id(placed), "order")
        return _id(placed)

    def get_order(self, investor_id: str, order_id: str) -> dict[str, Any]:
        order = self.client.get_order(investor_id, order_id)
        self.monitor.order_seen(order_id, str(order.get("status")))
        return order

    def cancel_order(self, investor_id: str, order_id: str) -> None:
        cancelled = self.client.cancel_order(investor_id, order_id)
        if "status" in cancelled:
            self.monitor.order_seen(order_id, str(cancelled["status"]))

    def positions(self, investor_id: str) -> list[dict[str, Any]]:
        return self.client.list_positions(investor_id)

    # -- optional capabilities ------------------------------------------------------------------------------

    def request_log(self) -> list[dict[str, Any]]:
        """One entry per HTTP exchange: method, path, status, request_id, duration_ms, attempt, idempotency_key."""
        return self.client.log.entries()

    @property
    def webhook_url(self) -> str | None:
        """The receiver's https URL (starting it on first use), or None when no receiver was configured."""
        if self.receiver is None:
            return None
        url = self.receiver.start().url
        self.monitor.webhooks_expected = True  # from now on, a create without its webhook is news
        return url

    def processed_events(self) -> list[str]:
        """Event ids whose effects the receiver applied, one entry per application."""
        return self.receiver.processed_events() if self.receiver is not None else []

    def resource_status(self, resource_id: str) -> str | None:
        """The status the receiver holds for a resource, from the most recent event applied."""
        return self.receiver.resource_status(resource_id) if self.receiver is not None else None

    def alerts(self) -> list[dict[str, Any]]:
        """What fired, oldest first: ``{kind, at, message, …}`` (kinds: elevated_5xx, rate_limited, stuck_order,
        webhook_failure). Sweeps first, as a scheduler would, so overdue orders and webhooks are current."""
        received = self.receiver.resource_status if self.receiver is not None else None
        self.monitor.sweep(self._order_status, received)
        return self.monitor.alerts()

    def _order_status(self, investor_id: str, order_id: str) -> str | None:
        status = self.client.get_order(investor_id, order_id).get("status")
        return str(status) if status is not None else None

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.stop()
        self.client.close()

    def __repr__(self) -> str:
        return f"ReferenceIntegration({self.client!r})"


def create(
    env: IntegrationEnv,
    *,
    transport: httpx.BaseTransport | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] | None = None,
    alerts: AlertPolicy | None = None,
    clock: Callable[[], float] | None = None,
    **policy: Any,
) -> ReferenceIntegration:
    """The adapter factory: a ``ReferenceIntegration`` for ``env``.

    :param policy: ``RetryPolicy`` fields to override (``max_attempts``, ``base_s``, ``cap_s``, …);
        ``timeout_s`` defaults to ``env.request_timeout_s``.
    :param transport: the httpx transport, rng and sleep are passed to ``BluumClient`` (for tests).
    :param alerts: when alerts fire (default: ``AlertPolicy()``, production thresholds); ``clock`` is the alert
        monitor's time source (seconds since the epoch; tests inject one).
    """
    retry_policy = dataclasses.replace(RetryPolicy(timeout_s=env.request_timeout_s), **policy)
    client = BluumClient(env.base_url, env.credentials, retry_policy, transport=transport, rng=rng, sleep=sleep)
    monitor = AlertMonitor(alerts, clock=clock) if clock is not None else AlertMonitor(alerts)
    receiver = None
    if env.webhook_tls is not None and env.webhook_secret is not None:
        receiver = ReferenceReceiver(env.webhook_secret, tls=env.webhook_tls)
    return ReferenceIntegration(client, receiver, monitor)


def create_fast(env: IntegrationEnv, **kwargs: Any) -> ReferenceIntegration:
    """``create`` with ``FAST_POLICY`` and ``FAST_ALERTS`` (the suite's default against the twin); ``kwargs``
    override further."""
    return create(env, **{"alerts": FAST_ALERTS, **FAST_POLICY, **kwargs})


def _id(resource: dict[str, Any]) -> str:
    identifier: str = resource["id"]
    return identifier
