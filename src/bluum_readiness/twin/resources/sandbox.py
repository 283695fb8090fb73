"""Core sandbox controls (◆, twin only), under ``/_sandbox`` with tenant credentials.

Bluum drives these from its dashboard; the twin exposes them so the suite can
run end to end: reset, force a KYC outcome, run due work now, create another
partner account (tenant), and read the money ledger.
"""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import dispatcher, http
from bluum_readiness.twin.domain import kyc, ledger
from bluum_readiness.twin.validation import Body, prefixed_id

_TENANT_TABLES = (
    "resources",
    "ledger",
    "ledger_balances",
    "jobs",
    "events",
    "deliveries",
    "delivery_attempts",
    "prices",
)


class ForceKyc(Body):
    status: Literal[
        "onboarding", "under_review", "awaiting_documents", "active", "suspended", "declined", "setup_failed"
    ]


class NewTenant(Body):
    name: str = "sandbox"


async def reset(request: Request) -> Response:
    """Delete the tenant's data (as the sandbox's nightly reset); keys and webhook registrations stay."""
    caller = http.principal(request)
    twin = http.twin(request)
    with twin.db.tx():
        webhooks = twin.store.list(caller.tenant_id, "webhook")
        for table in _TENANT_TABLES:
            twin.db.execute(f"DELETE FROM {table} WHERE tenant_id = ?", (caller.tenant_id,))  # noqa: S608
        for hook in webhooks:
            twin.store.insert(caller.tenant_id, hook)
        twin.db.execute("DELETE FROM api_keys WHERE tenant_id = ? AND scope = 'investor'", (caller.tenant_id,))
    return http.json({"object": "sandbox_reset", "tenant_id": caller.tenant_id, "webhooks_kept": len(webhooks)})


async def force_kyc(request: Request) -> Response:
    caller = http.principal(request)
    req = await http.body(request, ForceKyc)
    twin = http.twin(request)
    investor_id = prefixed_id(request.path_params["investor_id"], "inv", "investor_id")
    with twin.db.tx():
        investor = twin.store.require(caller.tenant_id, "investor", investor_id, param="investor_id")
        kyc.set_status(twin, caller.tenant_id, investor, req.status)
    return http.json(investor)


async def tick(request: Request) -> Response:
    """Run the caller's due scheduled work and webhook deliveries now (handy with long delays or a paused loop).

    Only the calling tenant's: jobs and deliveries carry their tenant, and one partner's tick must not move
    another's state machines (the background loop still runs everyone's).
    """
    twin = http.twin(request)
    tenant_id = http.principal(request).tenant_id
    jobs = twin.scheduler.run_due(tenant_id=tenant_id)
    delivered = await dispatcher.dispatch_due(twin, tenant_id=tenant_id)
    return http.json({"object": "sandbox_tick", "jobs_run": jobs, "deliveries_attempted": delivered})


async def create_tenant(request: Request) -> Response:
    """Create another partner account with its own key pair; the secret is shown only in this response."""
    req = await http.body(request, NewTenant)
    pair = http.twin(request).create_tenant(req.name)
    return http.json({"object": "tenant", "id": pair.tenant_id, "key": pair.key, "secret": pair.secret}, 201)


async def read_ledger(request: Request) -> Response:
    """Every money movement of the tenant (optionally one investor's or one operation's), oldest first."""
    caller = http.principal(request)
    twin = http.twin(request)
    rows = ledger.entries(
        twin,
        caller.tenant_id,
        investor_id=request.query_params.get("investor_id"),
        operation_id=request.query_params.get("operation_id"),
    )
    data = [{**r, "object": "ledger_entry", "amount": f"{r['amount_cents'] / 100:.2f}"} for r in rows]
    return http.json({"object": "list", "url": request.url.path, "has_more": False, "data": data})


routes = [
    Route("/reset", reset, methods=["POST"]),
    Route("/investors/{investor_id}/kyc", force_kyc, methods=["POST"]),
    Route("/tick", tick, methods=["POST"]),
    Route("/tenants", create_tenant, methods=["POST"]),
    Route("/ledger", read_ledger, methods=["GET"]),
]
