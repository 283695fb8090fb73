"""The OpenAPI 3.1 document of the twin's public API, built from its routes and body models.

Sandbox controls are operator-only and left out. Bluum routes the twin does not offer (``resources/unoffered.py``:
add-on products answering 403 PRODUCT_NOT_ENABLED, documented routes answering 404 BLUM-404-002) are not
operations either; the document lists them under ``x-bluum-not-offered``.

Operations are declared here as data (summary, tag, body model, success status, query parameters);
a test checks that every route of the app has an entry and every entry a route, so the document
cannot drift from the implementation. Body schemas come from the same pydantic models that validate
requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bluum_readiness import __version__
from bluum_readiness.twin.errors import CATALOGUE
from bluum_readiness.twin.resources import (
    api_keys,
    deposits,
    funding,
    investors,
    orders,
    unoffered,
    webhooks,
    withdrawals,
)

__all__ = ["OPERATIONS", "Operation", "build", "not_offered"]

_ID_PREFIX = {
    "investor_id": "inv",
    "deposit_id": "dep",
    "withdrawal_id": "wd",
    "order_id": "ord",
    "position_id": "pos",
    "funding_source_id": "fs",
    "document_id": "doc",
    "webhook_id": "wh",
    "api_key_id": "apk",
}

_PAGING = ("limit", "offset")


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    status: int = 200
    body: type[BaseModel] | tuple[type[BaseModel], ...] | str | None = None  # "multipart" for uploads
    query: tuple[str, ...] = ()
    idempotency: str | None = None  # "required" | "recommended" | None
    extra: dict[str, Any] = field(default_factory=dict)
    media_type: str = "application/json"  # of the success response ("*/*": the stored file's own type)


_INV = "/investors/{investor_id}"

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/investors"): Operation(
        "Create an investor", "Investors", 201, investors.CreateInvestor, idempotency="optional"
    ),
    ("GET", "/investors"): Operation("List investors", "Investors", query=("status", *_PAGING)),
    ("GET", _INV): Operation("Retrieve an investor", "Investors"),
    ("POST", f"{_INV}/close"): Operation("Close an investor account", "Investors", body=investors.CloseInvestor),
    ("PUT", f"{_INV}/trusted-contact"): Operation(
        "Set the trusted contact", "Investors", body=investors.TrustedContact
    ),
    ("GET", f"{_INV}/compliance"): Operation("Compliance status", "Investors"),
    ("GET", f"{_INV}/wallets"): Operation("List wallets", "Wallets"),
    ("GET", f"{_INV}/transactions"): Operation(
        "List transactions", "Wallets", query=("type", "status", "currency", "date_from", "date_to", *_PAGING)
    ),
    ("POST", "/documents"): Operation("Upload a document", "Documents", 201, "multipart"),
    ("GET", "/documents"): Operation(
        "List documents",
        "Documents",
        query=("investor_id", "purpose", "status", "document_type", "limit", "starting_after"),
    ),
    ("GET", "/documents/{document_id}"): Operation("Retrieve a document", "Documents"),
    ("GET", "/documents/{document_id}/download"): Operation("Download a document", "Documents", media_type="*/*"),
    ("DELETE", "/documents/{document_id}"): Operation("Delete a document", "Documents"),
    ("POST", f"{_INV}/funding-sources/plaid/link-token"): Operation(
        "Create a Plaid link token", "Funding sources", body=funding.LinkTokenRequest
    ),
    ("POST", f"{_INV}/funding-sources/connect"): Operation(
        "Connect a funding source", "Funding sources", 201, (funding.ConnectPlaid, funding.ConnectManual)
    ),
    ("GET", f"{_INV}/funding-sources"): Operation("List funding sources", "Funding sources", query=("type", *_PAGING)),
    ("GET", f"{_INV}/funding-sources/{{funding_source_id}}"): Operation("Retrieve a funding source", "Funding sources"),
    ("DELETE", f"{_INV}/funding-sources/{{funding_source_id}}"): Operation(
        "Disconnect a funding source", "Funding sources"
    ),
    ("POST", f"{_INV}/deposits"): Operation(
        "Create a deposit", "Transfers", 201, deposits.CreateDeposit, idempotency="required"
    ),
    ("GET", f"{_INV}/deposits"): Operation(
        "List deposits", "Transfers", query=("method", "status", "currency", "date_from", "date_to", *_PAGING)
    ),
    ("GET", f"{_INV}/deposits/{{deposit_id}}"): Operation("Retrieve a deposit", "Transfers"),
    ("POST", f"{_INV}/deposits/{{deposit_id}}/cancel"): Operation("Cancel a pending deposit", "Transfers"),
    ("POST", f"{_INV}/withdrawals"): Operation(
        "Create a withdrawal", "Transfers", 201, withdrawals.CreateWithdrawal, idempotency="required"
    ),
    ("GET", f"{_INV}/withdrawals"): Operation(
        "List withdrawals", "Transfers", query=("method", "status", "currency", "date_from", "date_to", *_PAGING)
    ),
    ("GET", f"{_INV}/withdrawals/{{withdrawal_id}}"): Operation("Retrieve a withdrawal", "Transfers"),
    ("POST", f"{_INV}/withdrawals/{{withdrawal_id}}/cancel"): Operation("Cancel a pending withdrawal", "Transfers"),
    ("POST", f"{_INV}/orders"): Operation(
        "Place an order", "Trading", 201, orders.PlaceOrder, idempotency="recommended"
    ),
    ("GET", f"{_INV}/orders"): Operation("List orders", "Trading", query=("status", "symbol", "side", *_PAGING)),
    ("GET", f"{_INV}/orders/{{order_id}}"): Operation("Retrieve an order", "Trading"),
    ("POST", f"{_INV}/orders/{{order_id}}/cancel"): Operation("Cancel an order", "Trading"),
    ("POST", f"{_INV}/order-estimates"): Operation("Estimate an order", "Trading", body=orders.EstimateOrder),
    ("GET", f"{_INV}/positions"): Operation("List positions", "Positions", query=("symbol", "non_zero_only", *_PAGING)),
    ("GET", f"{_INV}/positions/{{position_id}}"): Operation("Retrieve a position", "Positions"),
    ("GET", "/assets"): Operation(
        "List assets", "Assets", query=("asset_class", "class", "tradable", "status", *_PAGING)
    ),
    ("GET", "/assets/search"): Operation("Search assets", "Assets", query=("q", "limit")),
    ("GET", "/assets/{symbol}"): Operation("Retrieve an asset", "Assets"),
    ("POST", f"{_INV}/api-keys"): Operation("Create an investor API key", "API keys", 201, api_keys.CreateApiKey),
    ("GET", f"{_INV}/api-keys"): Operation("List investor API keys", "API keys"),
    ("POST", f"{_INV}/api-keys/{{api_key_id}}/revoke"): Operation("Revoke an investor API key", "API keys"),
    ("GET", "/webhooks/event-types"): Operation("List webhook event types", "Webhooks"),
    ("GET", "/webhooks"): Operation("List webhooks", "Webhooks", query=_PAGING),
    ("POST", "/webhooks"): Operation("Register a webhook", "Webhooks", 201, webhooks.CreateWebhook),
    ("GET", "/webhooks/{webhook_id}"): Operation("Retrieve a webhook", "Webhooks"),
    ("PATCH", "/webhooks/{webhook_id}"): Operation("Update a webhook", "Webhooks", body=webhooks.UpdateWebhook),
    ("DELETE", "/webhooks/{webhook_id}"): Operation("Delete a webhook", "Webhooks"),
    ("GET", "/openapi.json"): Operation("This document", "Meta"),
}


def _parameters(path: str, op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for part in path.split("/"):
        if part.startswith("{"):
            name = part[1:-1]
            schema: dict[str, Any] = {"type": "string"}
            if name in _ID_PREFIX:
                schema["pattern"] = f"^{_ID_PREFIX[name]}_[0-9a-hjkmnp-tv-z]{{26}}$"
            params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for name in op.query:
        schema = {"type": "integer", "minimum": 1, "maximum": 200} if name == "limit" else {"type": "string"}
        if name == "offset":
            schema = {"type": "integer", "minimum": 0}
        params.append({"name": name, "in": "query", "required": name == "q", "schema": schema})
    if op.idempotency:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": op.idempotency == "required",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": f"Idempotency key ({op.idempotency}); the same key replays the first response.",
            }
        )
    return params


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _request_body(op: Operation, components: dict[str, Any]) -> dict[str, Any] | None:
    if op.body is None:
        return None
    if op.body == "multipart":
        schema = {
            "type": "object",
            "required": ["document", "document_type"],
            "properties": {
                "document": {"type": "string", "format": "binary"},
                "document_type": {"type": "string"},
                "purpose": {"type": "string"},
                "investor_id": {"type": "string"},
            },
        }
        return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    if isinstance(op.body, tuple):
        body_schema: dict[str, Any] = {"oneOf": [_schema_ref(m, components) for m in op.body]}
    else:
        assert isinstance(op.body, type)
        body_schema = _schema_ref(op.body, components)
    return {"required": True, "content": {"application/json": {"schema": body_schema}}}


def _responses(op: Operation) -> dict[str, Any]:
    error = {
        "description": "A Bluum error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    success = {"type": "object"} if op.media_type == "application/json" else {"type": "string", "format": "binary"}
    return {
        str(op.status): {"description": "Success", "content": {op.media_type: {"schema": success}}},
        "4XX": error,
        "5XX": error,
    }


def not_offered() -> dict[str, Any]:
    """The routes of ``resources/unoffered.py`` as data: add-on prefixes by product, and unimplemented routes."""
    return {
        "add_ons": [
            {"product": a.product, "prefixes": list(a.prefixes), "status": 403, "code": "PRODUCT_NOT_ENABLED"}
            for a in unoffered.ADD_ONS
        ],
        "not_implemented": [
            {"methods": list(methods), "path": path, "status": 404, "code": "BLUM-404-002"}
            for methods, path in unoffered.NOT_IMPLEMENTED
        ],
    }


def build() -> dict[str, Any]:
    components: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["type", "code", "message"],
                    "properties": {
                        "type": {"type": "string"},
                        "code": {"type": "string", "enum": sorted(CATALOGUE)},
                        "message": {"type": "string"},
                        "param": {"type": "string"},
                    },
                }
            },
        }
    }
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in OPERATIONS.items():
        operation: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _parameters(path, op),
            "responses": _responses(op),
        }
        body = _request_body(op, components)
        if body is not None:
            operation["requestBody"] = body
        if path == "/openapi.json":
            operation["security"] = []
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bluum sandbox twin (bluum-readiness)",
            "version": __version__,
            "description": "The Bluum Finance sandbox API surface implemented by the bluum-readiness twin. "
            "See docs/sandbox-twin.md for decisions and limitations. Bluum routes it does not offer are listed "
            "under x-bluum-not-offered: add-on products answer 403 with the legacy body "
            '{"status": "error", "code": "PRODUCT_NOT_ENABLED", "message": ...}; the other routes answer '
            "404 BLUM-404-002.",
        },
        "x-bluum-not-offered": not_offered(),
        "servers": [{"url": "/v1"}],
        "security": [{"basicAuth": []}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
    }
