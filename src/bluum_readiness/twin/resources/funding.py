"""Funding sources: Plaid link tokens, connecting Plaid or manual bank accounts, list, retrieve, disconnect.

◆ Plaid in the twin: ``public-sandbox-*`` public tokens are accepted (single use, per tenant) and link one
checking account of "First Platypus Bank" with mask 0000. ◆ Any investor but a closed one may create
link tokens, connect and disconnect funding sources (403 BLUM-403-004 when closed); reads always work.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.engine import Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.store import Resource, public
from bluum_readiness.twin.validation import Body, Country, Currency, parse_json_body

PLAID_TOKEN_PREFIX = "public-sandbox-"
PLAID_BANK = "First Platypus Bank"
PLAID_ROUTING = "011401533"

_ROUTING_RE = re.compile(r"^\d{9}$")


def _account_number(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) < 4:
        raise PydanticCustomError("BLUM-400-003", "must be a bank account number of at least 4 characters")
    return value.strip()


def _routing_number(value: Any) -> str:
    if not isinstance(value, str) or not _ROUTING_RE.match(value):
        raise PydanticCustomError("BLUM-400-003", "must be a 9-digit ABA routing number")
    return value


AccountNumber = Annotated[str, BeforeValidator(_account_number)]
RoutingNumber = Annotated[str, BeforeValidator(_routing_number)]


class LinkTokenRequest(Body):
    enable_hosted_link: bool | None = None


class ConnectKind(Body):
    type: Literal["plaid", "manual"]


class ConnectPlaid(Body):
    type: Literal["plaid"]
    public_token: str


class ConnectManual(Body):
    type: Literal["manual"]
    bank_name: str = Field(min_length=1)
    account_holder_name: str = Field(min_length=1)
    account_number: AccountNumber
    routing_number: RoutingNumber | None = None
    bank_account_type: Literal["CHECKING", "SAVINGS"] | None = None
    swift_code: str | None = None
    beneficiary_address: str | None = None
    bank_code: str | None = None
    currency: Currency = "USD"
    country: Country = "US"
    metadata: dict[str, str] = Field(default_factory=dict)


def _require_open(investor: Resource) -> None:
    if investor["status"] == "closed":
        raise ApiError(
            "BLUM-403-004",
            f"Investor {investor['id']} is closed; funding sources of a closed account cannot be changed.",
        )


def _source(twin: Twin, investor: Resource, **fields: Any) -> Resource:
    number = fields.pop("account_number")
    return twin.new_resource(
        "fs",
        "funding_source",
        investor_id=investor["id"],
        status="active",
        mask=number[-4:],
        account_number=f"****{number[-4:]}",
        **fields,
    )


async def create_link_token(request: Request) -> Response:
    await http.body(request, LinkTokenRequest)
    investor = http.investor_of(request)
    _require_open(investor)
    token = f"link-sandbox-{uuid.uuid4()}"
    return http.json({"link_token": token, "hosted_link_url": f"https://hosted.plaid.com/link/{token}"})


async def connect(request: Request) -> Response:
    raw = await request.body()
    kind = parse_json_body(raw, ConnectKind).type
    req: ConnectPlaid | ConnectManual
    if kind == "plaid":
        req = parse_json_body(raw, ConnectPlaid)
    else:
        req = parse_json_body(raw, ConnectManual)
    investor = http.investor_of(request)
    _require_open(investor)
    tenant = http.principal(request).tenant_id
    twin = http.twin(request)
    with twin.db.tx():
        if isinstance(req, ConnectPlaid):
            return http.commit(request, _connect_plaid(request, twin, tenant, investor, req), 201)
        source = _source(
            twin,
            investor,
            type="manual",
            bank_name=req.bank_name,
            account_name=f"{req.bank_name} {(req.bank_account_type or 'account').lower()}",
            account_type="depository",
            account_subtype=req.bank_account_type.lower() if req.bank_account_type else None,
            account_holder_name=req.account_holder_name,
            account_number=req.account_number,
            routing_number=req.routing_number,
            swift_code=req.swift_code,
            bank_code=req.bank_code,
            beneficiary_address=req.beneficiary_address,
            provider_id=None,
            currency=req.currency,
            country=req.country,
        )
        source["metadata"] = req.metadata
        twin.store.insert(tenant, source)
        return http.commit(request, source, 201)


def _connect_plaid(request: Request, twin: Twin, tenant: str, investor: Resource, req: ConnectPlaid) -> dict[str, Any]:
    token = req.public_token
    if not token.startswith(PLAID_TOKEN_PREFIX) or len(token) <= len(PLAID_TOKEN_PREFIX):
        raise ApiError(
            "BLUM-400-003",
            f"public_token must be a Plaid sandbox public token ({PLAID_TOKEN_PREFIX}…) from Plaid Link.",
            param="public_token",
        )
    if twin.store.find(tenant, "funding_source", "_public_token", token):  # index resources_by_public_token
        raise ApiError(
            "BLUM-400-001",
            "This public_token was already exchanged; public tokens are single-use, run Plaid Link again for a "
            "new one.",
            param="public_token",
        )
    first = investor.get("first_name") or ""
    last = investor.get("last_name") or ""
    source = _source(
        twin,
        investor,
        type="plaid",
        bank_name=PLAID_BANK,
        account_name="Plaid Checking",
        account_type="depository",
        account_subtype="checking",
        account_holder_name=f"{first} {last}".strip() or None,
        account_number="1111222233330000",
        routing_number=PLAID_ROUTING,
        swift_code=None,
        bank_code=None,
        beneficiary_address=None,
        provider_id=f"item-sandbox-{uuid.uuid4()}",
        currency="USD",
        country="US",
        _public_token=token,
    )
    twin.store.insert(tenant, source)
    return {"object": "list", "url": request.url.path, "has_more": False, "data": [public(source)]}


async def list_sources(request: Request) -> Response:
    investor = http.investor_of(request)
    kind = http.query_enum(request, "type", ("plaid", "manual", "all"))
    twin = http.twin(request)
    items = twin.store.list(
        http.principal(request).tenant_id,
        "funding_source",
        investor_id=investor["id"],
        where=lambda s: kind in (None, "all") or s["type"] == kind,
    )
    return http.list_envelope(request, items)


def _get(request: Request) -> tuple[str, Resource, Resource]:
    investor = http.investor_of(request)
    source_id = http.path_id(request, "funding_source_id", "fs")
    tenant = http.principal(request).tenant_id
    source = http.twin(request).store.require(tenant, "funding_source", source_id, param="funding_source_id")
    if source["investor_id"] != investor["id"]:
        raise ApiError(
            "BLUM-404-001",
            f"No such funding_source: {source_id!r} for investor {investor['id']}.",
            param="funding_source_id",
        )
    return tenant, investor, source


async def get_source(request: Request) -> Response:
    _, _, source = _get(request)
    return http.json(source)


async def delete_source(request: Request) -> Response:
    twin = http.twin(request)
    with twin.db.tx():
        tenant, investor, source = _get(request)
        _require_open(investor)
        if source["status"] != "disconnected":
            source["status"] = "disconnected"
            twin.store.save(tenant, source)
        return http.commit(request, source, 200)


routes = [
    Route("/investors/{investor_id}/funding-sources/plaid/link-token", create_link_token, methods=["POST"]),
    Route("/investors/{investor_id}/funding-sources/connect", connect, methods=["POST"]),
    Route("/investors/{investor_id}/funding-sources", list_sources, methods=["GET"]),
    Route("/investors/{investor_id}/funding-sources/{funding_source_id}", get_source, methods=["GET"]),
    Route("/investors/{investor_id}/funding-sources/{funding_source_id}", delete_source, methods=["DELETE"]),
]
