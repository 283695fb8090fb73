"""Sandbox controls (◆, twin only) for events, webhook deliveries and tenant key pairs (under ``/_sandbox``).

- ``GET /events``: the tenant's events, oldest first, with their parsed bodies (filter ``type``).
- ``GET /webhook-deliveries``: every delivery with its attempts (filters ``webhook_id``, ``event_id``, ``status``).
- ``POST /webhook-deliveries/{id}/retry``: queue a parked or pending delivery for now.
- ``POST/GET /api-keys``, ``POST /api-keys/{id}/revoke|deactivate|activate``: tenant key pairs for the
  rotation drill; every BLUM-401 code can be produced (revoked → 003, inactive → 004, ``expires_at`` past → 005).
  ``created`` (unix seconds or ISO 8601, not in the future) back-dates a new pair, for the key-age check.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.engine import Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import EVENT_TYPES
from bluum_readiness.twin.resources.api_keys import key_status
from bluum_readiness.twin.validation import Body, in_timestamp_range, prefixed_id
from bluum_readiness.twin.values import iso

__all__ = ["routes"]

DELIVERY_STATUSES = ("pending", "delivered", "parked")


# -- events ---------------------------------------------------------------------------------------------


async def list_events(request: Request) -> Response:
    caller = http.principal(request)
    twin = http.twin(request)
    event_type = http.query_enum(request, "type", tuple(EVENT_TYPES))
    rows = twin.db.all(
        "SELECT id, type, created, body FROM events WHERE tenant_id = ? AND (? IS NULL OR type = ?) ORDER BY seq",
        (caller.tenant_id, event_type, event_type),
    )
    items = [{**json.loads(r["body"]), "object": "event", "created": int(r["created"])} for r in rows]
    return http.list_envelope(request, items)


# -- deliveries -----------------------------------------------------------------------------------------


def _render_delivery(twin: Twin, row: sqlite3.Row) -> dict[str, Any]:
    attempts = twin.db.all(
        "SELECT attempt, at, url, status_code, error, latency_ms FROM delivery_attempts "
        "WHERE delivery_id = ? ORDER BY attempt, id",
        (row["id"],),
    )
    return {
        "id": row["id"],
        "object": "webhook_delivery",
        "event_id": row["event_id"],
        "event_type": row["type"],
        "webhook_id": row["webhook_id"],
        "status": row["status"],
        "attempt_count": row["attempts"],
        "next_attempt_at": iso(row["next_attempt_at"]),
        "created": int(row["created"]),
        "attempts": [
            {
                "attempt": a["attempt"],
                "at": iso(a["at"]),
                "url": a["url"],
                "status_code": a["status_code"],
                "error": a["error"],
                "latency_ms": a["latency_ms"],
            }
            for a in attempts
        ],
    }


_DELIVERY_SELECT = (
    "SELECT d.id, d.event_id, e.type, d.webhook_id, d.status, d.attempts, d.next_attempt_at, d.created "
    "FROM deliveries d LEFT JOIN events e ON e.id = d.event_id "
)


async def list_deliveries(request: Request) -> Response:
    caller = http.principal(request)
    twin = http.twin(request)
    status = http.query_enum(request, "status", DELIVERY_STATUSES)
    webhook_id = request.query_params.get("webhook_id")
    event_id = request.query_params.get("event_id")
    rows = twin.db.all(
        _DELIVERY_SELECT + "WHERE d.tenant_id = ? AND (? IS NULL OR d.webhook_id = ?) "
        "AND (? IS NULL OR d.event_id = ?) AND (? IS NULL OR d.status = ?) ORDER BY d.created, d.rowid",
        (caller.tenant_id, webhook_id, webhook_id, event_id, event_id, status, status),
    )
    return http.list_envelope(request, [_render_delivery(twin, r) for r in rows])


async def retry_delivery(request: Request) -> Response:
    """Queue a parked or pending delivery for an attempt now; a failure re-parks it once retries are spent."""
    caller = http.principal(request)
    twin = http.twin(request)
    delivery_id = prefixed_id(request.path_params["delivery_id"], "dlv", "delivery_id")
    with twin.db.tx():
        row = twin.db.one(_DELIVERY_SELECT + "WHERE d.id = ? AND d.tenant_id = ?", (delivery_id, caller.tenant_id))
        if row is None:
            raise ApiError("BLUM-404-001", f"No such webhook delivery: {delivery_id!r}.", param="delivery_id")
        if row["status"] == "delivered":
            raise ApiError("BLUM-409-003", f"Delivery {delivery_id} was already delivered.")
        twin.db.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?",
            (twin.clock.now(), delivery_id),
        )
        row = twin.db.one(_DELIVERY_SELECT + "WHERE d.id = ?", (delivery_id,))
        assert row is not None
        return http.commit(request, _render_delivery(twin, row), 200)


# -- tenant key pairs -----------------------------------------------------------------------------------


class CreateTenantKey(Body):
    name: str | None = Field(default=None, max_length=120)
    expires_at: str | int | float | None = None
    created: str | int | float | None = None


def _expiry(value: str | int | float | None, param: str = "expires_at") -> float | None:
    """Unix seconds from a unix number or an ISO 8601 timestamp (a past time is allowed: 401-005 drills)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return in_timestamp_range(float(value), param)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            "BLUM-400-003",
            f"'{param}' must be unix seconds or an ISO 8601 timestamp, e.g. 2026-06-15T14:30:00Z.",
            param=param,
        ) from None
    return in_timestamp_range((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp(), param)


def _render_key(twin: Twin, row: sqlite3.Row, secret: str | None = None) -> dict[str, Any]:
    key: dict[str, Any] = {
        "object": "tenant_api_key",
        "id": row["id"],
        "key": row["public_key"],
        "name": row["name"],
        "created": int(row["created"]),
        "status": key_status(twin, row),
        "expires_at": iso(row["expires_at"]),
        "revoked_at": iso(row["revoked_at"]),
    }
    if secret is not None:
        key["secret"] = secret
    return key


def _tenant_key(twin: Twin, tenant_id: str, key_id: str) -> sqlite3.Row:
    """A tenant key pair by its id (apk_…) or by its public key."""
    row = twin.db.one(
        "SELECT * FROM api_keys WHERE (id = ? OR public_key = ?) AND tenant_id = ? AND scope = 'tenant'",
        (key_id, key_id, tenant_id),
    )
    if row is None:
        raise ApiError("BLUM-404-001", f"No such tenant API key: {key_id!r}.", param="key_id")
    return row


async def create_tenant_key(request: Request) -> Response:
    """A new key pair for the caller's tenant; the secret is shown only in this response."""
    caller = http.principal(request)
    req = await http.body(request, CreateTenantKey)
    expires_at = _expiry(req.expires_at)
    twin = http.twin(request)
    created = _expiry(req.created, "created")
    if created is not None and created > twin.clock.now():
        raise ApiError("BLUM-400-003", "'created' must not be in the future.", param="created")
    with twin.db.tx():
        pair = twin.create_tenant_key(caller.tenant_id, name=req.name)
        if expires_at is not None:
            twin.db.execute("UPDATE api_keys SET expires_at = ? WHERE public_key = ?", (expires_at, pair.key))
        if created is not None:
            twin.db.execute("UPDATE api_keys SET created = ? WHERE public_key = ?", (created, pair.key))
        row = _tenant_key(twin, caller.tenant_id, pair.key)
        return http.commit(request, _render_key(twin, row, pair.secret), 201)


async def list_tenant_keys(request: Request) -> Response:
    caller = http.principal(request)
    twin = http.twin(request)
    rows = twin.db.all(
        "SELECT * FROM api_keys WHERE tenant_id = ? AND scope = 'tenant' ORDER BY created, rowid", (caller.tenant_id,)
    )
    return http.list_envelope(request, [_render_key(twin, r) for r in rows])


def _set_key_status(request: Request, status: str) -> Response:
    caller = http.principal(request)
    twin = http.twin(request)
    with twin.db.tx():
        row = _tenant_key(twin, caller.tenant_id, request.path_params["key_id"])
        if row["status"] == "revoked" and status != "revoked":
            raise ApiError("BLUM-409-003", f"Key {row['id']} is revoked; revocation is permanent.")
        if row["status"] != status:
            revoked_at = twin.clock.now() if status == "revoked" else None
            twin.db.execute(
                "UPDATE api_keys SET status = ?, revoked_at = ? WHERE id = ?", (status, revoked_at, row["id"])
            )
            row = _tenant_key(twin, caller.tenant_id, row["id"])
        return http.commit(request, _render_key(twin, row), 200)


async def revoke_tenant_key(request: Request) -> Response:
    """Revoke permanently (→ 401 BLUM-401-003); revoking the key of this very request is allowed."""
    return _set_key_status(request, "revoked")


async def deactivate_tenant_key(request: Request) -> Response:
    """Deactivate (→ 401 BLUM-401-004) until reactivated with ``activate``."""
    return _set_key_status(request, "inactive")


async def activate_tenant_key(request: Request) -> Response:
    return _set_key_status(request, "active")


routes = [
    Route("/events", list_events, methods=["GET"]),
    Route("/webhook-deliveries", list_deliveries, methods=["GET"]),
    Route("/webhook-deliveries/{delivery_id}/retry", retry_delivery, methods=["POST"]),
    Route("/api-keys", create_tenant_key, methods=["POST"]),
    Route("/api-keys", list_tenant_keys, methods=["GET"]),
    Route("/api-keys/{key_id}/revoke", revoke_tenant_key, methods=["POST"]),
    Route("/api-keys/{key_id}/deactivate", deactivate_tenant_key, methods=["POST"]),
    Route("/api-keys/{key_id}/activate", activate_tenant_key, methods=["POST"]),
]
