"""Known-bad integrations for the ``lifecycle`` checks (one defect each), and the checks that must flag them.

Each is the correct-but-different ``ConfigurableIntegration`` with one operation broken (or, for webhook events,
the reference with a defective receiver), usable as ``--integration tests.integrations.lifecycle_variants:<name>``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

from bluum_readiness.integration import OPERATIONS, IntegrationEnv
from bluum_readiness.reference import ReferenceIntegration, create_fast
from bluum_readiness.webhooks.receiver import ReferenceReceiver
from tests.integrations.configurable import ConfigurableIntegration, Knobs

GOOD = Knobs()


class SwallowsErrors(ConfigurableIntegration):
    """Catches every failure, logs it and returns None, as if the call had worked."""


def _swallowing(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def swallowed(self: ConfigurableIntegration, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(self, *args, **kwargs)
        except Exception:
            return None

    return swallowed


for _op in OPERATIONS:
    setattr(SwallowsErrors, _op, _swallowing(getattr(ConfigurableIntegration, _op)))


class PlainErrors(ConfigurableIntegration):
    """Raises a bare ``RuntimeError`` for every failure: no code, no status, nothing in the message but that it
    failed (as many hand-written clients do). Correct; the suite can only judge its refusals by what the proxy
    recorded."""


def _plain(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def plain(self: ConfigurableIntegration, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(self, *args, **kwargs)
        except Exception:
            raise RuntimeError(f"{operation.__name__} failed") from None

    return plain


for _op in OPERATIONS:
    setattr(PlainErrors, _op, _plain(getattr(ConfigurableIntegration, _op)))


class DepositReturnsInvestorId(ConfigurableIntegration):
    """Returns the wrong field of the deposit response: the investor's id instead of the deposit's."""

    def deposit(self, investor_id: str, funding_source_id: str, amount: str, method: str = "ach") -> str:
        super().deposit(investor_id, funding_source_id, amount, method)
        return investor_id


class IgnoresManualBanks(ConfigurableIntegration):
    """Supports Plaid only: a manual bank body is answered with the investor's existing (Plaid) source."""

    def link_bank_account(self, investor_id: str, bank: dict[str, Any]) -> str:
        if bank.get("type") == "manual":
            sources = self._request("GET", f"/investors/{investor_id}/funding-sources")["data"]
            if sources:
                return str(sources[0]["id"])
        return super().link_bank_account(investor_id, bank)


class CancelIsANoop(ConfigurableIntegration):
    """``cancel_order`` forgets to send the request (returns as if it had cancelled)."""

    def cancel_order(self, investor_id: str, order_id: str) -> None:
        return None


class _DoubleSubmits(ConfigurableIntegration):
    """Places the order, then "makes sure it went through" by posting it again, without an idempotency key."""

    SIDE = "buy"

    def place_order(self, investor_id: str, order: dict[str, Any]) -> str:
        placed = str(self._request("POST", f"/investors/{investor_id}/orders", json=order)["id"])
        if order.get("side") == self.SIDE:
            with contextlib.suppress(Exception):
                self._request("POST", f"/investors/{investor_id}/orders", json=order)
        return placed


class DoubleSubmitsBuys(_DoubleSubmits):
    SIDE = "buy"


class DoubleSubmitsSells(_DoubleSubmits):
    SIDE = "sell"


class OrderEventsOnly(ReferenceReceiver):
    """Written for order events only: account and transfer events are acknowledged (200) and dropped."""

    def apply(self, event: dict[str, Any]) -> None:
        if str(event.get("event", "")).startswith("order."):
            super().apply(event)


def order_events_only(env: IntegrationEnv) -> ReferenceIntegration:
    integration = create_fast(env)
    if env.webhook_tls is not None and env.webhook_secret is not None:
        integration.receiver = OrderEventsOnly(env.webhook_secret, tls=env.webhook_tls)
    return integration


def _factory(cls: type[ConfigurableIntegration], knobs: Knobs = GOOD) -> Callable[[IntegrationEnv], Any]:
    def create(env: IntegrationEnv) -> ConfigurableIntegration:
        return cls(env, knobs)

    create.__name__ = f"create_{cls.__name__}"
    return create


swallows_errors = _factory(SwallowsErrors)
deposit_returns_investor_id = _factory(DepositReturnsInvestorId)
ignores_manual_banks = _factory(IgnoresManualBanks)
cancel_is_a_noop = _factory(CancelIsANoop)
double_submits_buys = _factory(DoubleSubmitsBuys)
double_submits_sells = _factory(DoubleSubmitsSells)
# Sends no Idempotency-Key on withdrawals: every withdrawal is refused (400 BLUM-400-002), so "withdrawal above the
# balance" is refused — for the wrong reason.
no_key_on_withdrawals = _factory(ConfigurableIntegration, GOOD.but(key_mode="deposits_only"))
# Correct, but its exceptions say nothing (judged by what the proxy recorded) ...
plain_errors = _factory(PlainErrors)
# ... and the same, without a key on withdrawals: the proxy's 400 is not the 422 the path provokes.
plain_errors_no_key_on_withdrawals = _factory(PlainErrors, GOOD.but(key_mode="deposits_only"))

# name -> (factory, the lifecycle checks that must flag it: exactly these, no others)
KNOWN_BAD: dict[str, tuple[Callable[[IntegrationEnv], Any], set[str]]] = {
    "swallows_errors": (swallows_errors, {"lifecycle.error-paths"}),
    # The journey withdraws too, so it is refused there as well.
    "no_key_on_withdrawals": (no_key_on_withdrawals, {"lifecycle.full-journey", "lifecycle.error-paths"}),
    "deposit_returns_investor_id": (deposit_returns_investor_id, {"lifecycle.full-journey"}),
    "ignores_manual_banks": (ignores_manual_banks, {"lifecycle.full-journey"}),
    "cancel_is_a_noop": (cancel_is_a_noop, {"lifecycle.full-journey"}),
    # Buys are in the journey too: a doubled buy necessarily breaks its position and cash arithmetic as well.
    "double_submits_buys": (double_submits_buys, {"lifecycle.full-journey", "lifecycle.money-invariants"}),
    # The journey never sells: only the random sequences can catch this one.
    "double_submits_sells": (double_submits_sells, {"lifecycle.money-invariants"}),
    "order_events_only": (order_events_only, {"lifecycle.webhook-events"}),
}
