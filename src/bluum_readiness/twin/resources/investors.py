"""Investors: create, list, retrieve, close, trusted contact, compliance; and wallets' live figures."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.domain import kyc, ledger
from bluum_readiness.twin.engine import Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import emit
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.validation import Body, Country, Email, IsoDate, Phone, PositiveDecimal
from bluum_readiness.twin.values import from_cents

TaxIdType = Literal["SSN", "ITIN", "EIN", "SIN", "NINO", "TFN", "VAT", "TIN", "UTR", "PAN", "NIN", "KRA_PIN", "OTHER"]
FundingSourceKind = Literal[
    "employment_income", "investments", "inheritance", "business_income", "savings", "family", "other"
]


class Address(Body):
    street: list[str] = Field(min_length=1)
    unit: str | None = None
    city: str
    state: str | None = None
    postal_code: str | None = None
    country: Country


class MoneyRange(Body):
    min: PositiveDecimal | Literal["0"]
    max: PositiveDecimal


class Agreement(Body):
    type: str
    signed_at: str
    ip_address: str


class TrustedContact(Body):
    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    email: Email
    phone: Phone


class CreateInvestor(Body):
    account_type: Literal["individual", "joint", "corporate"]
    management_type: Literal["self_directed", "advised"] = "self_directed"
    first_name: str = Field(min_length=1)
    middle_name: str | None = None
    last_name: str = Field(min_length=1)
    date_of_birth: IsoDate
    tax_id: str = Field(min_length=4)
    tax_id_type: TaxIdType
    tax_id_country: Country | None = None
    country_of_citizenship: Country
    country_of_birth: Country
    country_of_tax_residence: Country
    funding_source: list[FundingSourceKind] = Field(min_length=1)
    annual_income: MoneyRange | None = None
    liquid_net_worth: MoneyRange | None = None
    total_net_worth: MoneyRange | None = None
    email: Email
    phone: Phone
    address: Address
    is_control_person: bool
    is_affiliated_exchange_or_finra: bool
    is_politically_exposed: bool
    immediate_family_exposed: bool
    employment_status: Literal["employed", "unemployed", "student", "retired"]
    employer_name: str | None = None
    employer_address: str | None = None
    employment_position: str | None = None
    signed_agreements: list[Agreement] = Field(min_length=2)
    trusted_contact: TrustedContact | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class CloseInvestor(Body):
    reason: str | None = None


def _validate_rules(req: CreateInvestor) -> None:
    kinds = [a.type for a in req.signed_agreements]
    if "investor_agreement" not in kinds:
        raise ApiError(
            "BLUM-400-002",
            "signed_agreements must include an 'investor_agreement'.",
            param="signed_agreements",
        )
    if kinds.count("investor_agreement") > 1:
        raise ApiError("BLUM-400-001", "Send 'investor_agreement' only once.", param="signed_agreements")
    if req.country_of_tax_residence == "US":
        for part in ("state", "postal_code"):
            if not getattr(req.address, part):
                raise ApiError("BLUM-400-002", f"US tax residents need address.{part}.", param=f"address.{part}")


def render(twin: Twin, tenant_id: str, investor: Resource) -> Resource:
    """The investor with its live money figures."""
    available = from_cents(ledger.available_cents(twin, tenant_id, investor["id"]))
    return {
        **investor,
        "balance": from_cents(ledger.balance_cents(twin, tenant_id, investor["id"])),
        "buying_power": available,
        "cash_withdrawable": available,
    }


async def create_investor(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    req = await http.body(request, CreateInvestor)
    _validate_rules(req)
    twin = http.twin(request)
    fields = req.model_dump(exclude={"tax_id", "metadata", "trusted_contact"})
    with twin.db.tx():
        email_key = kyc.email_key(req.email)
        # One index lookup (resources_by_email); investors of an older database get the key at start-up.
        if twin.store.find(caller.tenant_id, "investor", "_email_key", email_key):
            raise ApiError("BLUM-409-001", f"An investor with email {req.email} already exists.", param="email")
        investor = twin.new_resource(
            "inv",
            "investor",
            status="onboarding",
            **fields,
            tax_advantaged=False,
            account_number=None,
            currency="USD",
            trusted_contact=req.trusted_contact.model_dump() if req.trusted_contact else None,
            _tax_id=req.tax_id,
            _email_key=email_key,
        )
        investor["metadata"] = req.metadata
        twin.store.insert(caller.tenant_id, investor)
        wallet = twin.new_resource("wlt", "wallet", investor_id=investor["id"], currency="USD", status="active")
        twin.store.insert(caller.tenant_id, wallet)
        kyc.start(twin, caller.tenant_id, investor)
        emit(twin, caller.tenant_id, "account.created", investor)
        return http.commit(request, render(twin, caller.tenant_id, investor), 201)


async def list_investors(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    twin = http.twin(request)
    status = http.query_enum(request, "status", kyc.STATUSES)
    items = twin.store.list(caller.tenant_id, "investor", where=lambda i: status is None or i["status"] == status)
    return http.list_envelope(request, [render(twin, caller.tenant_id, i) for i in items])


async def get_investor(request: Request) -> Response:
    investor = http.investor_of(request)
    twin = http.twin(request)
    return http.json(render(twin, http.principal(request).tenant_id, investor))


async def close_investor(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    await http.body(request, CloseInvestor)
    investor = http.investor_of(request)
    twin = http.twin(request)
    tenant = caller.tenant_id
    with twin.db.tx():
        if investor["status"] == "closed":
            raise ApiError("BLUM-409-003", f"Investor {investor['id']} is already closed.")
        open_orders = twin.store.list(
            tenant, "order", investor_id=investor["id"], where=lambda o: o["status"] in ("pending", "open", "partial")
        )
        positions = twin.store.list(
            tenant, "position", investor_id=investor["id"], where=lambda p: p.get("quantity") not in ("0", None)
        )
        if open_orders or positions or ledger.balance_cents(twin, tenant, investor["id"]) != 0:
            raise ApiError(
                "BLUM-409-003",
                "An investor can be closed only with no open positions, no pending orders and a zero balance.",
            )
        kyc.set_status(twin, tenant, investor, "closed")
        return http.commit(request, render(twin, tenant, investor), 200)


async def put_trusted_contact(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    req = await http.body(request, TrustedContact)
    investor = http.investor_of(request)
    twin = http.twin(request)
    with twin.db.tx():
        investor["trusted_contact"] = req.model_dump()
        twin.store.save(caller.tenant_id, investor)
        emit(twin, caller.tenant_id, "account.updated", investor)
        body = {"object": "trusted_contact", "livemode": False, "investor_id": investor["id"], **req.model_dump()}
        return http.commit(request, body, 200)


_WORKFLOW = {
    "onboarding": ("IN_PROGRESS", "running", "pending"),
    "under_review": ("PENDING_REVIEW", "awaiting_review", "review_required"),
    "awaiting_documents": ("PENDING_REVIEW", "awaiting_review", "review_required"),
    "active": ("APPROVED", "approved", "clear"),
    "declined": ("REJECTED", "declined", "failed"),
    "setup_failed": ("REJECTED", "declined", "error"),
    "suspended": ("SUSPENDED", "suspended", "clear"),
    "closed": ("APPROVED", "approved", "clear"),
}


async def get_compliance(request: Request) -> Response:
    investor = http.investor_of(request)
    workflow_status, external, check_status = _WORKFLOW[investor["status"]]
    checks = [
        {"type": t, "status": check_status, "completed_at": None if check_status == "pending" else investor["created"]}
        for t in ("identity_verification", "tax_id_verification", "screening")
    ]
    return http.json(
        {
            "object": "compliance_workflow",
            "livemode": False,
            "investor_id": investor["id"],
            "workflow_status": workflow_status,
            "workflow_type": "kyc",
            "risk_level": "low" if workflow_status == "APPROVED" else None,
            "status": external,
            "checks": checks,
            "created_at": investor["created"],
            "updated_at": investor["created"],
        }
    )


routes = [
    Route("/investors", create_investor, methods=["POST"]),
    Route("/investors", list_investors, methods=["GET"]),
    Route("/investors/{investor_id}", get_investor, methods=["GET"]),
    Route("/investors/{investor_id}/close", close_investor, methods=["POST"]),
    Route("/investors/{investor_id}/trusted-contact", put_trusted_contact, methods=["PUT"]),
    Route("/investors/{investor_id}/compliance", get_compliance, methods=["GET"]),
]
