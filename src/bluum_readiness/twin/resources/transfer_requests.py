"""What deposits and withdrawals share at the HTTP level: header and field checks, and the list, retrieve and
cancel endpoints (the same rules for both kinds; only the names differ).

``deposits`` and ``withdrawals`` keep what differs: their create bodies and rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import transfers
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.validation import prefixed_id
from bluum_readiness.twin.values import cents

__all__ = [
    "MAX_TRANSFER_AMOUNT",
    "SUPPORTED_CURRENCIES",
    "amount_cents",
    "funding_source_param",
    "list_transfers",
    "require_currency",
    "require_idempotency_key",
    "transfer_of",
    "transfer_routes",
]

SUPPORTED_CURRENCIES = ("USD",)
MAX_TRANSFER_AMOUNT = Decimal("1000000000.00")
"""◆ The largest deposit or withdrawal the twin accepts (Bluum documents none). Every accepted amount settles:
the ledger keeps cents in SQLite's 64-bit integers, and without a bound an amount above 92,233,720,368,547,758.07
was acknowledged, then its settlement overflowed and it stayed ``processing`` forever."""


def amount_cents(amount: str) -> int:
    """A validated ``amount`` field (see ``validation.Amount``) in cents, or 400 BLUM-400-005 above the maximum."""
    if Decimal(amount) > MAX_TRANSFER_AMOUNT:
        raise ApiError(
            "BLUM-400-005",
            f"Invalid value for 'amount': the twin accepts at most {MAX_TRANSFER_AMOUNT:,} per deposit or "
            "withdrawal; split a larger transfer.",
            param="amount",
        )
    return cents(amount)


def require_idempotency_key(request: Request, what: str) -> None:
    """400 BLUM-400-002 (param Idempotency-Key) when the header is missing, unless the twin is lenient."""
    if request.headers.get("idempotency-key") is None and not http.twin(request).settings.lenient_idempotency:
        raise ApiError(
            "BLUM-400-002",
            f"The Idempotency-Key header is required on {what}; send a unique key (e.g. a UUID) per operation "
            "and reuse it when you retry.",
            param="Idempotency-Key",
        )


def require_currency(currency: str) -> None:
    if currency not in SUPPORTED_CURRENCIES:
        raise ApiError(
            "BLUM-400-004",
            f"Invalid value for 'currency': {currency} is not supported; expected one of "
            f"{', '.join(SUPPORTED_CURRENCIES)}.",
            param="currency",
        )


def funding_source_param(value: str) -> str:
    return prefixed_id(value, "fs", "funding_source_id")


def list_transfers(request: Request, obj: str, methods: Sequence[str]) -> Response:
    """The investor's deposits or withdrawals, filtered by method, status, currency and date (created)."""
    investor = http.investor_of(request)
    twin = http.twin(request)
    method = http.query_enum(request, "method", methods)
    status = http.query_enum(request, "status", transfers.STATUSES)
    currency = request.query_params.get("currency")
    start, end = transfers.date_window(request.query_params.get("date_from"), request.query_params.get("date_to"))

    def wanted(t: Resource) -> bool:
        return (
            (method is None or t["method"] == method)
            and (status is None or t["status"] == status)
            and (currency is None or t["currency"] == currency.upper())
            and (start is None or t["created"] >= start)
            and (end is None or t["created"] < end)
        )

    items = twin.store.list(http.principal(request).tenant_id, obj, investor_id=investor["id"], where=wanted)
    return http.list_envelope(request, items)


def transfer_of(request: Request, obj: str, param: str, prefix: str) -> tuple[str, Resource]:
    """The deposit/withdrawal named in the path, which must belong to the path's investor."""
    investor = http.investor_of(request)
    transfer_id = http.path_id(request, param, prefix)
    tenant = http.principal(request).tenant_id
    transfer = http.twin(request).store.require(tenant, obj, transfer_id, param=param)
    if transfer["investor_id"] != investor["id"]:
        raise ApiError("BLUM-404-001", f"No such {obj}: {transfer_id!r} for investor {investor['id']}.", param=param)
    return tenant, transfer


def transfer_routes(
    obj: str, prefix: str, methods: Sequence[str], create: Callable[[Request], Awaitable[Response]]
) -> list[Route]:
    """Create, list, retrieve and cancel under ``/investors/{investor_id}/<obj>s`` (path id ``<obj>_id``)."""
    base = f"/investors/{{investor_id}}/{obj}s"
    param = f"{obj}_id"

    async def list_all(request: Request) -> Response:
        return list_transfers(request, obj, methods)

    async def get_one(request: Request) -> Response:
        _, transfer = transfer_of(request, obj, param, prefix)
        return http.json(transfer)

    async def cancel(request: Request) -> Response:
        twin = http.twin(request)
        with twin.db.tx():
            tenant, transfer = transfer_of(request, obj, param, prefix)
            transfers.cancel(twin, tenant, transfer)
            return http.commit(request, transfer, 200)

    return [
        Route(base, create, methods=["POST"]),
        Route(base, list_all, methods=["GET"]),
        Route(f"{base}/{{{param}}}", get_one, methods=["GET"]),
        Route(f"{base}/{{{param}}}/cancel", cancel, methods=["POST"]),
    ]
