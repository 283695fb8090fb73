"""Webhook management (§5.13): event types, register, list, retrieve, update, delete.

Tenant-wide credentials only (investor-scoped keys get 403 BLUM-403-001). The signing
secret (``whsec_…``, see ``signing``) is shown only in the create response and kept
as the internal ``_secret`` field. ◆ http:// URLs are accepted (local receivers).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.twin import http
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.events import EVENT_TYPES
from bluum_readiness.twin.signing import new_secret
from bluum_readiness.twin.store import Resource
from bluum_readiness.twin.validation import Body
from bluum_readiness.twin.values import iso

__all__ = ["routes", "validate_event_type_names", "validate_url"]

_DOMAINS = frozenset(name.rsplit(".", 1)[0] for name in EVENT_TYPES) | frozenset(
    name.split(".", 1)[0] for name in EVENT_TYPES
)


class CreateWebhook(Body):
    url: str
    eventTypeNames: list[str] = Field(min_length=1)  # noqa: N815 - Bluum's field name
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)


class UpdateWebhook(Body):
    url: str | None = None
    eventTypeNames: list[str] | None = Field(default=None, min_length=1)  # noqa: N815 - Bluum's field name
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    status: Literal["ACTIVE", "INACTIVE", "active", "inactive"] | None = None


def validate_url(url: str) -> str:
    """An absolute http(s) URL with a host, or 400 BLUM-400-003 (◆ http is accepted for local receivers)."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        httpx.URL(url)  # what the dispatcher will send to: refused here, not at every delivery attempt
    except (ValueError, httpx.InvalidURL):
        ok = False
    # whitespace and control characters (CR/LF would inject headers; httpx refused them only when sending)
    ok = ok and not any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url)
    if not ok:
        raise ApiError(
            "BLUM-400-003",
            f"'url' must be an absolute http(s) URL, e.g. https://example.com/hooks; got {url!r}.",
            param="url",
        )
    return url


def validate_event_type_names(names: list[str]) -> list[str]:
    """Known event names, ``*``, or a domain wildcard (``order.*``, ``transfer.*``, ``transfer.deposit.*``)."""
    for name in names:
        if name == "*" or name in EVENT_TYPES:
            continue
        if name.endswith(".*") and name[:-2] in _DOMAINS:
            continue
        raise ApiError(
            "BLUM-400-004",
            f"Unknown event type {name!r}; see GET /v1/webhooks/event-types (wildcards such as 'order.*' are allowed).",
            param="eventTypeNames",
        )
    return list(dict.fromkeys(names))


def _webhook_of(request: Request) -> Resource:
    caller = http.require_tenant_scope(request)
    webhook_id = http.path_id(request, "webhook_id", "wh")
    return http.twin(request).store.require(caller.tenant_id, "webhook", webhook_id, param="webhook_id")


async def list_event_types(request: Request) -> Response:
    http.require_tenant_scope(request)
    items = [{"object": "webhook_event_type", "name": n, "description": d} for n, d in EVENT_TYPES.items()]
    return http.list_envelope(request, items)


async def create_webhook(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    req = await http.body(request, CreateWebhook)
    url = validate_url(req.url)
    names = validate_event_type_names(req.eventTypeNames)
    twin = http.twin(request)
    with twin.db.tx():
        secret = new_secret(twin.ids.token_bytes)
        webhook = twin.new_resource(
            "wh",
            "webhook",
            url=url,
            name=req.name,
            description=req.description,
            event_type_names=names,
            status="active",
            created_at=iso(twin.clock.now()),
            updated_at=iso(twin.clock.now()),
            _secret=secret,
        )
        twin.store.insert(caller.tenant_id, webhook)
        return http.commit(request, {**webhook, "secret": secret}, 201)


async def list_webhooks(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    return http.list_envelope(request, http.twin(request).store.list(caller.tenant_id, "webhook"))


async def get_webhook(request: Request) -> Response:
    return http.json(_webhook_of(request))


async def update_webhook(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    req = await http.body(request, UpdateWebhook)
    twin = http.twin(request)
    with twin.db.tx():
        webhook = _webhook_of(request)
        if req.url is not None:
            webhook["url"] = validate_url(req.url)
        if req.eventTypeNames is not None:
            webhook["event_type_names"] = validate_event_type_names(req.eventTypeNames)
        if req.name is not None:
            webhook["name"] = req.name
        if "description" in req.model_fields_set:
            webhook["description"] = req.description
        if req.status is not None:
            webhook["status"] = req.status.lower()
        webhook["updated_at"] = iso(twin.clock.now())
        twin.store.save(caller.tenant_id, webhook)
    return http.json(webhook)


async def delete_webhook(request: Request) -> Response:
    caller = http.require_tenant_scope(request)
    twin = http.twin(request)
    with twin.db.tx():
        webhook = _webhook_of(request)
        twin.store.delete(caller.tenant_id, webhook["id"])
    return http.json({"id": webhook["id"], "object": "webhook", "deleted": True})


routes = [
    Route("/webhooks/event-types", list_event_types, methods=["GET"]),
    Route("/webhooks", list_webhooks, methods=["GET"]),
    Route("/webhooks", create_webhook, methods=["POST"]),
    Route("/webhooks/{webhook_id}", get_webhook, methods=["GET"]),
    Route("/webhooks/{webhook_id}", update_webhook, methods=["PATCH"]),
    Route("/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"]),
]
