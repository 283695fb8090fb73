"""The suite's OTLP/HTTP receiver: ``POST /v1/traces``, ``/v1/logs`` (and ``/v1/metrics``, read and dropped), as an
OpenTelemetry SDK configured from the environment exports to it.

Answers as OTLP/HTTP requires: 200 with an empty ``Export*ServiceResponse`` in the request's encoding (full
success); 400 with a ``google.rpc.Status`` saying what is wrong for a body that is not an export request (bad
protobuf, bad JSON, ids not hex, bad gzip); 415 for a Content-Type other than ``application/x-protobuf`` or
``application/json``; 405 for another method. It never asks a client to retry.

``OtlpReceiver`` serves the app with uvicorn on 127.0.0.1 (a free port unless given) in a background thread; what
it receives is in its ``telemetry`` (``store.Telemetry``).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bluum_readiness.otlp.decode import (
    JSON,
    MAX_BODY_BYTES,
    PROTOBUF,
    BadPayload,
    UnsupportedMediaType,
    decode,
    media_type,
    response_body,
)
from bluum_readiness.otlp.store import Telemetry

__all__ = ["OtlpReceiver", "create_app"]


def _status(http_status: int, message: str, kind: str) -> Response:
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message)
    if kind == PROTOBUF:
        return Response(status.SerializeToString(), status_code=http_status, media_type=PROTOBUF)
    return Response(json_format.MessageToJson(status), status_code=http_status, media_type=JSON)


def create_app(telemetry: Telemetry) -> Starlette:
    """The receiver's ASGI app, adding what it accepts to ``telemetry``."""

    def endpoint(signal: str) -> Any:
        async def export(request: Request) -> Response:
            try:
                kind = media_type(request.headers.get("content-type"))
            except UnsupportedMediaType as exc:
                telemetry.reject()
                return _status(415, str(exc), JSON)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                telemetry.reject()
                return _status(413, f"the body is over {MAX_BODY_BYTES} bytes", kind)
            body = await request.body()
            try:
                records = decode(signal, body, kind, request.headers.get("content-encoding"))
            except BadPayload as exc:
                telemetry.reject()
                return _status(400, str(exc), kind)
            telemetry.add(signal, records)
            return Response(response_body(signal, kind), media_type=kind)

        return export

    routes = [Route(f"/v1/{signal}", endpoint(signal), methods=["POST"]) for signal in ("traces", "logs", "metrics")]
    return Starlette(routes=routes)


class OtlpReceiver:
    """The receiver on a real loopback socket: ``start()``, ``endpoint`` (the base URL an SDK's
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` takes: ``/v1/traces`` and ``/v1/logs`` are appended), ``telemetry``,
    ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, telemetry: Telemetry | None = None) -> None:
        from bluum_readiness._serving import BackgroundServer

        self.telemetry = telemetry if telemetry is not None else Telemetry()
        self._server = BackgroundServer(create_app(self.telemetry), host=host, port=port, name="bluum-otlp")
        self.endpoint = self._server.url

    def start(self) -> OtlpReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"OtlpReceiver({self.endpoint!r})"
