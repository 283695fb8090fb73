"""Withdrawals: create (Idempotency-Key required; the amount is held at once), list, retrieve, cancel.

This module parses and checks the create request; ``transfer_requests`` provides what deposits and withdrawals
share (list, retrieve, cancel).
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


class CreateWithdrawal(Body):
    amount: Amount
    currency: Currency = "USD"
    method: Literal["ach", "wire", "manual_bank_transfer"]
    funding_source_id: str | None = None
    description: str | None = Field(default=None, max_length=500)


async def create_withdrawal(request: Request) -> Response:
    investor = http.investor_of(request)
    require_idempotency_key(request, "withdrawals")
    req = await http.body(request, CreateWithdrawal)
    require_currency(req.currency)
    if req.funding_source_id is None:
        raise ApiError(
            "BLUM-400-002",
            "Missing required field 'funding_source_id': every withdrawal pays out to a connected funding source.",
            param="funding_source_id",
        )
    source_id = funding_source_param(req.funding_source_id)
    twin = http.twin(request)
    tenant = http.principal(request).tenant_id
    with twin.db.tx():
        investor = twin.store.require(tenant, "investor", investor["id"], param="investor_id")
        kyc.require_active(investor)
        transfers.require_funding_source(twin, tenant, investor["id"], source_id)
        withdrawal = transfers.create_withdrawal(
            twin,
            tenant,
            investor,
            amount_cents=amount_cents(req.amount),
            currency=req.currency,
            method=req.method,
            funding_source_id=source_id,
            description=req.description,
        )
        return http.commit(request, withdrawal, 201)


routes = transfer_routes("withdrawal", "wd", transfers.WITHDRAWAL_METHODS, create_withdrawal)
