"""Reading OTLP/HTTP export requests with the official ``opentelemetry-proto`` messages: binary protobuf
(``application/x-protobuf``) or OTLP's JSON mapping (``application/json``: lowerCamelCase keys, trace and span ids
as hex, 64-bit integers as strings or numbers, enums as integers), optionally gzip-compressed.

``decode(signal, body, content_type, encoding)`` returns the request's spans or log records (``records``); a body
that is not what it claims raises ``BadPayload`` (HTTP 400) and a media type other than the two raises
``UnsupportedMediaType`` (HTTP 415), each with a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2

from bluum_readiness.otlp.records import KINDS, STATUSES, LogRecord, Span, SpanEvent

__all__ = [
    "JSON",
    "MAX_BODY_BYTES",
    "PROTOBUF",
    "REQUESTS",
    "BadPayload",
    "UnsupportedMediaType",
    "decode",
    "media_type",
    "response_body",
]

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest export accepted, after decompression (an SDK's batch is far smaller: 512 spans by default)."""

REQUESTS: dict[str, tuple[type[Message], type[Message]]] = {
    "traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
    "metrics": (metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse),
}
"""Each signal's request and response messages (``/v1/<signal>``)."""

# where OTLP's JSON mapping writes ids as hex (protobuf's own JSON mapping would want base64)
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


class BadPayload(ValueError):
    """The body is not an export request of its media type (HTTP 400)."""


class UnsupportedMediaType(ValueError):
    """Neither ``application/x-protobuf`` nor ``application/json`` (HTTP 415)."""


def media_type(content_type: str | None) -> str:
    """``PROTOBUF`` or ``JSON`` for a Content-Type header (parameters such as ``charset`` ignored)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in (PROTOBUF, JSON):
        shown = kind or "none"
        raise UnsupportedMediaType(f"Content-Type {shown} is not supported: send {PROTOBUF} or {JSON} (OTLP/HTTP)")
    return kind


def decompress(body: bytes, encoding: str | None) -> bytes:
    """The body without its Content-Encoding (``gzip`` or none), at most ``MAX_BODY_BYTES``."""
    name = (encoding or "identity").strip().lower()
    if name in ("", "identity"):
        return body
    if name != "gzip":
        raise BadPayload(f"Content-Encoding {name} is not supported: send gzip or an uncompressed body")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise BadPayload(f"the body is not valid gzip ({exc})") from None
    if len(out) > MAX_BODY_BYTES:
        raise BadPayload(f"the body inflates to more than {MAX_BODY_BYTES} bytes")
    if not inflater.eof:
        raise BadPayload("the gzip body is truncated")
    return out


def parse(signal: str, body: bytes, kind: str) -> Message:
    """The export request of ``signal`` (``traces``, ``logs``, ``metrics``) in ``body``."""
    message = REQUESTS[signal][0]()
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise BadPayload(f"the body is not a protobuf {message.DESCRIPTOR.name} ({exc})") from None
        return message
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"the body is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise BadPayload(f"the body is JSON but not an object: an {message.DESCRIPTOR.name} is one")
    try:
        json_format.ParseDict(_hex_ids_as_base64(document), message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise BadPayload(f"the JSON is not an OTLP {message.DESCRIPTOR.name}: {exc}") from None
    return message


def decode(signal: str, body: bytes, content_type: str | None, encoding: str | None = None) -> list[Any]:
    """The spans (``traces``) or log records (``logs``) of one export; ``metrics`` are read and dropped (the
    checks judge no metric: an SDK exporting them to the same endpoint must not see errors)."""
    kind = media_type(content_type)
    message = parse(signal, decompress(body, encoding), kind)
    if signal == "traces":
        return list(_spans(message))
    if signal == "logs":
        return list(_log_records(message))
    return []


def response_body(signal: str, kind: str) -> bytes:
    """The empty ``Export*ServiceResponse`` (full success) in the request's encoding."""
    response = REQUESTS[signal][1]()
    if kind == PROTOBUF:
        encoded: bytes = response.SerializeToString()
        return encoded
    return json_format.MessageToJson(response).encode()


# -- OTLP's JSON mapping -----------------------------------------------------------------------------------------


def _hex_ids_as_base64(value: Any) -> Any:
    """The document with every trace or span id (hex in OTLP's JSON) as the base64 protobuf's JSON parser reads."""
    if isinstance(value, list):
        return [_hex_ids_as_base64(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _ID_KEYS and isinstance(item, str):
            try:
                raw = bytes.fromhex(item)
            except ValueError:
                raise BadPayload(f"{key} {item!r} is not hex: OTLP's JSON writes trace and span ids as hex") from None
            out[key] = base64.b64encode(raw).decode()
        else:
            out[key] = _hex_ids_as_base64(item)
    return out


# -- messages as records -----------------------------------------------------------------------------------------


def _spans(request: Any) -> Iterable[Span]:
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for span in scope_spans.spans:
                yield Span(
                    trace_id=_hex(span.trace_id),
                    span_id=_hex(span.span_id),
                    parent_span_id=_hex(span.parent_span_id),
                    name=span.name,
                    kind=KINDS[span.kind] if 0 <= span.kind < len(KINDS) else str(span.kind),
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    attributes=_attributes(span.attributes),
                    events=tuple(
                        SpanEvent(event.name, event.time_unix_nano, _attributes(event.attributes))
                        for event in span.events
                    ),
                    status=STATUSES[span.status.code] if 0 <= span.status.code < len(STATUSES) else "UNSET",
                    status_message=span.status.message,
                    resource=resource,
                    scope=scope,
                )


def _log_records(request: Any) -> Iterable[LogRecord]:
    for resource_logs in request.resource_logs:
        resource = _attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope.name
            for record in scope_logs.log_records:
                yield LogRecord(
                    time_ns=record.time_unix_nano or record.observed_time_unix_nano,
                    body=_value(record.body) if record.HasField("body") else "",
                    attributes=_attributes(record.attributes),
                    severity_number=int(record.severity_number),
                    severity_text=record.severity_text,
                    trace_id=_hex(record.trace_id),
                    span_id=_hex(record.span_id),
                    event_name=getattr(record, "event_name", ""),
                    resource=resource,
                    scope=scope,
                )


def _hex(raw: bytes) -> str:
    return binascii.hexlify(raw).decode() if raw.strip(b"\0") else ""


def _attributes(pairs: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: common_pb2.AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value.hex()
    if which is None:
        return None
    plain: Any = getattr(value, which)
    return plain
