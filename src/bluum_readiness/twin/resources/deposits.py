"""Deposits: create (Idempotency-Key required), list, retrieve, cancel.

The state machine lives in ``bluum_readiness.twin.domain.transfers``; this module parses and checks requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import kyc, transfers
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.validation import Amount, Body, Currency, prefixed_id
from bluum_readiness.twin.values import cents

SUPPORTED_CURRENCIES = ("USD",)


class CreateDeposit(Body):
    amount: Amount
    currency: Currency = "USD"
    method: Literal["ach", "manual_bank_transfer", "wire"]
    funding_source_id: str | None = None
    description: str | None = Field(default=None, max_length=500)


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


async def create_deposit(request: Request) -> Response:
    investor = http.investor_of(request)
    require_idempotency_key(request, "deposits")
    req = await http.body(request, CreateDeposit)
    require_currency(req.currency)
    source_id = funding_source_param(req.funding_source_id) if req.funding_source_id is not None else None
    if req.method == "ach" and source_id is None:
        raise ApiError(
            "BLUM-400-002",
            "Missing required field 'funding_source_id': ACH deposits pull from a connected bank account.",
            param="funding_source_id",
        )
    twin = http.twin(request)
    tenant = http.principal(request).tenant_id
    with twin.db.tx():
        investor = twin.store.require(tenant, "investor", investor["id"], param="investor_id")
        kyc.require_active(investor)
        if source_id is not None:
            transfers.require_funding_source(twin, tenant, investor["id"], source_id)
        deposit = transfers.create_deposit(
            twin,
            tenant,
            investor,
            amount_cents=cents(req.amount),
            currency=req.currency,
            method=req.method,
            funding_source_id=source_id,
            description=req.description,
        )
        return http.commit(request, deposit, 201)


async def list_deposits(request: Request) -> Response:
    return list_transfers(request, "deposit", transfers.DEPOSIT_METHODS)


async def get_deposit(request: Request) -> Response:
    _, deposit = transfer_of(request, "deposit", "deposit_id", "dep")
    return http.json(deposit)


async def cancel_deposit(request: Request) -> Response:
    twin = http.twin(request)
    with twin.db.tx():
        tenant, deposit = transfer_of(request, "deposit", "deposit_id", "dep")
        transfers.cancel(twin, tenant, deposit)
        return http.commit(request, deposit, 200)


routes = [
    Route("/investors/{investor_id}/deposits", create_deposit, methods=["POST"]),
    Route("/investors/{investor_id}/deposits", list_deposits, methods=["GET"]),
    Route("/investors/{investor_id}/deposits/{deposit_id}", get_deposit, methods=["GET"]),
    Route("/investors/{investor_id}/deposits/{deposit_id}/cancel", cancel_deposit, methods=["POST"]),
]
