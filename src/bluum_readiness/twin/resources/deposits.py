"""Deposits: create (Idempotency-Key required), list, retrieve, cancel.

The state machine lives in ``bluum_readiness.twin.domain.transfers``; this module parses and checks the create
request, and ``transfer_requests`` provides what deposits and withdrawals share (list, retrieve, cancel).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import kyc, transfers
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.resources.transfer_requests import (
    amount_cents,
    funding_source_param,
    require_currency,
    require_idempotency_key,
    transfer_routes,
)
from bluum_readiness.twin.validation import Amount, Body, Currency


class CreateDeposit(Body):
    amount: Amount
    currency: Currency = "USD"
    method: Literal["ach", "manual_bank_transfer", "wire"]
    funding_source_id: str | None = None
    description: str | None = Field(default=None, max_length=500)


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
            amount_cents=amount_cents(req.amount),
            currency=req.currency,
            method=req.method,
            funding_source_id=source_id,
            description=req.description,
        )
        return http.commit(request, deposit, 201)


routes = transfer_routes("deposit", "dep", transfers.DEPOSIT_METHODS, create_deposit)
