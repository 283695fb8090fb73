"""Idempotency keys on POST: replay the stored response, 409 on a different body, never process twice.

The record's life: the middleware inserts ``in_flight`` (committed) before the
handler runs. A handler that changes state records its response *inside its
own transaction* through ``IdempotencyContext.record`` (see
``bluum_readiness.twin.http.commit``), so effects and the stored response
commit together: a crash can never leave an effect without its record. Any
other response below 500 is recorded by the middleware afterwards; a 5xx
releases the key so a retry is processed afresh. A duplicate that arrives
while the original is in flight waits for it, then replays it, or gets 409
BLUM-409-003 after ``idempotency_wait_s``. Scope: key pair + method + path.
The body is compared after canonicalising JSON (key order and whitespace do
not matter) and multipart boundaries; other bodies are compared byte for byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bluum_readiness.twin.db import Database
from bluum_readiness.twin.engine import Principal, Twin
from bluum_readiness.twin.errors import ApiError
from bluum_readiness.twin.middleware._send import send_error
from bluum_readiness.twin.validation import JsonRejected, load_json

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255


def request_hash(body: bytes, content_type: str | None = None) -> str:
    """A digest of the request body that ignores JSON key order and whitespace, and multipart boundaries
    (clients pick a fresh boundary on every retry of the same upload)."""
    boundary = _multipart_boundary(content_type)
    if boundary:
        canonical = body.replace(boundary, b"BOUNDARY")
    else:
        try:
            canonical = json.dumps(load_json(body), sort_keys=True, separators=(",", ":")).encode()
        except JsonRejected:  # the handler answers the 400
            canonical = body
    return hashlib.sha256(canonical).hexdigest()


def _multipart_boundary(content_type: str | None) -> bytes | None:
    if not content_type or not content_type.lower().startswith("multipart/"):
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    return None


@dataclass
class IdempotencyContext:
    """The idempotency record of the current request (in ``scope["bluum.idempotency"]``)."""

    db: Database
    scope_key: str
    key: str
    recorded: bool = False

    def record(self, status: int, content_type: str, body: bytes) -> None:
        """Store the response as this key's answer. Call inside the handler's transaction."""
        self.db.execute(
            "UPDATE idempotency SET state = 'done', status = ?, headers = ?, body = ? WHERE scope = ? AND key = ?",
            (status, json.dumps({"content-type": content_type}), body, self.scope_key, self.key),
        )
        self.recorded = True


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, twin: Twin) -> None:
        self.app = app
        self.twin = twin
        # Records left in flight by a crash had no effect (effects commit with their record): release them.
        with twin.db.tx():
            twin.db.execute("DELETE FROM idempotency WHERE state = 'in_flight'")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller: Principal | None = scope.get("bluum.principal")
        key = _header(scope, HEADER)
        if scope["type"] != "http" or scope["method"] != "POST" or caller is None or key is None:
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            error = ApiError(
                "BLUM-400-003",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters; use a fresh UUID per operation.",
                param="Idempotency-Key",
            )
            await send_error(scope, receive, send, error)
            return
        body = await _read_body(receive)
        digest = request_hash(body, _header(scope, b"content-type"))
        scope_key = f"{caller.key_id} POST {scope['path']}"
        db = self.twin.db
        settings = self.twin.settings

        deadline = time.monotonic() + settings.idempotency_wait_s  # real time: a duplicate really waits
        while True:
            with db.tx():
                row = db.one(
                    "SELECT request_hash, state, status, headers, body, created FROM idempotency "
                    "WHERE scope = ? AND key = ?",
                    (scope_key, key),
                )
                if row is not None and row["created"] + settings.idempotency_ttl_s <= self.twin.clock.now():
                    db.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (scope_key, key))
                    row = None
                if row is None:
                    db.execute(
                        "INSERT INTO idempotency (scope, key, request_hash, state, created) "
                        "VALUES (?,?,?, 'in_flight', ?)",
                        (scope_key, key, digest, self.twin.clock.now()),
                    )
                    break
            if row["request_hash"] != digest:
                error = ApiError(
                    "BLUM-409-002",
                    "This Idempotency-Key was already used with a different request body; "
                    "use a new key for a new operation.",
                    param="Idempotency-Key",
                )
                await send_error(scope, receive, send, error)
                return
            if row["state"] == "done":
                await _replay(send, row["status"], json.loads(row["headers"]), row["body"])
                return
            if time.monotonic() >= deadline:
                error = ApiError(
                    "BLUM-409-003",
                    "A request with this Idempotency-Key is still being processed; retry shortly with the same key.",
                    param="Idempotency-Key",
                )
                await send_error(scope, receive, send, error)
                return
            await asyncio.sleep(0.01)

        context = IdempotencyContext(db, scope_key, key)
        scope["bluum.idempotency"] = context
        await self._process(scope, body, send, context)

    async def _process(self, scope: Scope, body: bytes, send: Send, context: IdempotencyContext) -> None:
        messages: list[Message] = []
        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def capture(message: Message) -> None:
            messages.append(message)

        db = self.twin.db
        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            with db.tx():
                db.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (context.scope_key, context.key))
            raise
        start = next(m for m in messages if m["type"] == "http.response.start")
        status = int(start["status"])
        payload = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        with db.tx():
            if status >= 500:
                db.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (context.scope_key, context.key))
            elif not context.recorded:
                content_type = _header_of(start, b"content-type") or "application/json"
                context.record(status, content_type, payload)
        for message in messages:
            await send(message)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _replay(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw_headers += [(b"idempotent-replayed", b"true"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1")).strip()
    return None


def _header_of(message: Message, name: bytes) -> str | None:
    for key, value in message.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
