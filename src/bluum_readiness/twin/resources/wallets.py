"""Wallets (live money figures from the ledger) and the wallet's transactions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import ledger, transfers
from bluum_readiness.twin.engine import Twin
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.values import from_cents, money

# ◆ "activity" (corporate actions, fees) is accepted as a filter value and matches nothing in the twin.
TRANSACTION_TYPE_FILTER = (*transfers.TRANSACTION_TYPES, "activity")


def positions_value(twin: Twin, tenant_id: str, investor_id: str) -> Decimal:
    """The market value of the investor's positions (0 when there are none)."""
    total = Decimal(0)
    for position in twin.store.list(tenant_id, "position", investor_id=investor_id):
        try:
            total += Decimal(str(position.get("market_value") or "0"))
        except InvalidOperation:
            continue
    return total


def render_wallet(twin: Twin, tenant_id: str, wallet: Resource, investor: Resource | None = None) -> Resource:
    """The wallet with its live figures. ◆ Its status follows a suspended or closed investor."""
    investor_id = wallet["investor_id"]
    balance = ledger.balance_cents(twin, tenant_id, investor_id)
    reserved = ledger.reserved_cents(twin, tenant_id, investor_id)
    available = from_cents(balance - reserved)
    status = wallet.get("status", "active")
    if investor is not None and investor["status"] in ("suspended", "closed"):
        status = investor["status"]
    return {
        **wallet,
        "status": status,
        "balance": from_cents(balance),
        "available_balance": available,
        "reserved_balance": from_cents(reserved),
        "cash_withdrawable": available,
        "buying_power": available,
        "equity": money(Decimal(balance) / 100 + positions_value(twin, tenant_id, investor_id)),
    }


async def list_wallets(request: Request) -> Response:
    investor = http.investor_of(request)
    twin = http.twin(request)
    tenant = http.principal(request).tenant_id
    wallets = twin.store.list(tenant, "wallet", investor_id=investor["id"])
    return http.list_envelope(request, [render_wallet(twin, tenant, w, investor) for w in wallets])


async def list_transactions(request: Request) -> Response:
    investor = http.investor_of(request)
    twin = http.twin(request)
    kind = http.query_enum(request, "type", TRANSACTION_TYPE_FILTER)
    status = http.query_enum(request, "status", transfers.STATUSES)
    currency = request.query_params.get("currency")
    start, end = transfers.date_window(request.query_params.get("date_from"), request.query_params.get("date_to"))

    def wanted(t: Resource) -> bool:
        return (
            (kind is None or t["type"] == kind)
            and (status is None or t["status"] == status)
            and (currency is None or t["currency"] == currency.upper())
            and (start is None or t["created"] >= start)
            and (end is None or t["created"] < end)
        )

    items = twin.store.list(http.principal(request).tenant_id, "transaction", investor_id=investor["id"], where=wanted)
    return http.list_envelope(request, items)


routes = [
    Route("/investors/{investor_id}/wallets", list_wallets, methods=["GET"]),
    Route("/investors/{investor_id}/transactions", list_transactions, methods=["GET"]),
]
