"""Investor-scoped API keys (§5.12): create, list, revoke.

A key pair created here authenticates like a tenant pair but may only reach its own
investor's routes (``http.investor_of``); webhook management, tenant-wide lists and the
sandbox controls refuse it with 403 BLUM-403-001. The secret is stored hashed and shown
only in the create response. ◆ Creating and revoking need tenant-wide credentials;
an investor-scoped key may list its own investor's keys. ◆ ``environment: PRODUCTION``
→ 403 BLUM-403-003 in the sandbox. ◆ Revoking a revoked key answers 200 with the key.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.engine import Twin, hash_secret
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.validation import Body
from bluum_readiness.twin.values import iso

__all__ = ["key_status", "routes"]


class CreateApiKey(Body):
    name: str | None = Field(default=None, max_length=120)
    environment: Literal["TEST", "PRODUCTION"] = "TEST"


def key_status(twin: Twin, row: sqlite3.Row) -> str:
    """active | inactive | revoked | expired (expiry is computed against the twin's clock)."""
    status = str(row["status"])
    if status == "active" and row["expires_at"] is not None and row["expires_at"] <= twin.clock.now():
        return "expired"
    return status


def _render(twin: Twin, row: sqlite3.Row, secret: str | None = None) -> dict[str, Any]:
    key: dict[str, Any] = {
        "id": row["id"],
        "object": "api_key",
        "created": int(row["created"]),
        "livemode": False,
        "metadata": {},
        "account_id": row["investor_id"],
        "name": row["name"],
        "environment": row["environment"],
        "status": key_status(twin, row),
        "public_key": row["public_key"],
        "expires_at": iso(row["expires_at"]),
        "revoked_at": iso(row["revoked_at"]),
    }
    if secret is not None:
        key["secret_key"] = secret
    return key


def _row(twin: Twin, tenant_id: str, investor_id: str, key_id: str) -> sqlite3.Row:
    row = twin.db.one(
        "SELECT * FROM api_keys WHERE id = ? AND tenant_id = ? AND investor_id = ? AND scope = 'investor'",
        (key_id, tenant_id, investor_id),
    )
    if row is None:
        raise ApiError("BLUM-404-001", f"No such API key for investor {investor_id}: {key_id!r}.", param="api_key_id")
    return row


async def create_api_key(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    req = await http.body(request, CreateApiKey)
    investor = http.investor_of(request)
    if req.environment == "PRODUCTION":
        raise ApiError(
            "BLUM-403-003",
            "Production API keys need production access; the sandbox issues TEST keys only.",
            param="environment",
        )
    twin = http.twin(request)
    with twin.db.tx():
        key_id = twin.ids.new("apk")
        public_key = f"test_bluum_{twin.ids.token_hex(32)}"
        secret = twin.ids.token_hex(32)
        twin.db.execute(
            "INSERT INTO api_keys (id, public_key, secret_hash, tenant_id, investor_id, scope, name, environment, "
            "status, created) VALUES (?,?,?,?,?, 'investor', ?, ?, 'active', ?)",
            (
                key_id,
                public_key,
                hash_secret(secret),
                caller.tenant_id,
                investor["id"],
                req.name,
                req.environment,
                twin.clock.now(),
            ),
        )
        row = _row(twin, caller.tenant_id, investor["id"], key_id)
        return http.commit(request, _render(twin, row, secret), 201)


async def list_api_keys(request: Request) -> Response:
    caller = http.principal(request)
    investor = http.investor_of(request)
    twin = http.twin(request)
    rows = twin.db.all(
        "SELECT * FROM api_keys WHERE tenant_id = ? AND investor_id = ? AND scope = 'investor' ORDER BY created, rowid",
        (caller.tenant_id, investor["id"]),
    )
    return http.list_envelope(request, [_render(twin, r) for r in rows])


async def revoke_api_key(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    investor = http.investor_of(request)
    key_id = http.path_id(request, "api_key_id", "apk")
    twin = http.twin(request)
    with twin.db.tx():
        row = _row(twin, caller.tenant_id, investor["id"], key_id)
        if row["status"] != "revoked":
            twin.db.execute(
                "UPDATE api_keys SET status = 'revoked', revoked_at = ? WHERE id = ?", (twin.clock.now(), key_id)
            )
            row = _row(twin, caller.tenant_id, investor["id"], key_id)
        return http.commit(request, _render(twin, row), 200)


routes = [
    Route("/investors/{investor_id}/api-keys", create_api_key, methods=["POST"]),
    Route("/investors/{investor_id}/api-keys", list_api_keys, methods=["GET"]),
    Route("/investors/{investor_id}/api-keys/{api_key_id}/revoke", revoke_api_key, methods=["POST"]),
]
