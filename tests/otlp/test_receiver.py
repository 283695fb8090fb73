"""The OTLP/HTTP receiver reads what SDKs send — protobuf and OTLP's JSON mapping, gzip or not — with the official
messages, answers as OTLP/HTTP requires (200 with an empty response, 400 with a Status saying what is wrong, 415
for another media type), and works over a real socket with the OpenTelemetry SDK's own exporters."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from bluum_readiness.otlp import LogRecord, OtlpReceiver, Span, Telemetry
from bluum_readiness.otlp.receiver import create_app
from tests.fixtures.twin import SyncASGITransport

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"
PROTOBUF = {"content-type": "application/x-protobuf"}
JSON = {"content-type": "application/json"}


def _kv(key: str, value: object) -> common_pb2.KeyValue:
    if isinstance(value, bool):
        any_value = common_pb2.AnyValue(bool_value=value)
    elif isinstance(value, int):
        any_value = common_pb2.AnyValue(int_value=value)
    elif isinstance(value, list):
        any_value = common_pb2.AnyValue(
            array_value=common_pb2.ArrayValue(values=[common_pb2.AnyValue(string_value=v) for v in value])
        )
    else:
        any_value = common_pb2.AnyValue(string_value=str(value))
    return common_pb2.KeyValue(key=key, value=any_value)


def trace_request() -> trace_service_pb2.ExportTraceServiceRequest:
    """One client span of a request that got a 503, with the captured X-Request-Id, and a failed one."""
    answered = trace_pb2.Span(
        trace_id=bytes.fromhex(TRACE_ID),
        span_id=bytes.fromhex(SPAN_ID),
        name="GET",
        kind=trace_pb2.Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_000_012_500_000,
        attributes=[
            _kv("http.request.method", "GET"),
            _kv("url.full", "http://127.0.0.1:9/v1/investors/inv_1"),
            _kv("http.response.status_code", 503),
            _kv("http.response.header.x-request-id", ["req_abc"]),
        ],
        status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_ERROR),
    )
    failed = trace_pb2.Span(
        trace_id=bytes.fromhex(TRACE_ID),
        span_id=bytes.fromhex("00f067aa0ba902b7"),
        name="POST",
        kind=trace_pb2.Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_700_000_000_100_000_000,
        end_time_unix_nano=1_700_000_000_600_000_000,
        attributes=[_kv("http.request.method", "POST"), _kv("url.full", "http://127.0.0.1:9/v1/x/deposits")],
        events=[
            trace_pb2.Span.Event(
                name="exception",
                time_unix_nano=1_700_000_000_600_000_000,
                attributes=[_kv("exception.type", "httpx.ReadTimeout"), _kv("exception.message", "timed out")],
            )
        ],
        status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_ERROR, message="ReadTimeout"),
    )
    resource = resource_pb2.Resource(attributes=[_kv("service.name", "acme")])
    scope = trace_pb2.ScopeSpans(spans=[answered, failed])
    scope.scope.name = "opentelemetry.instrumentation.httpx"
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(resource=resource, scope_spans=[scope])]
    )


def logs_request() -> logs_service_pb2.ExportLogsServiceRequest:
    record = logs_pb2.LogRecord(
        time_unix_nano=1_700_000_000_000_000_000,
        severity_number=logs_pb2.SEVERITY_NUMBER_WARN,
        severity_text="WARN",
        body=common_pb2.AnyValue(string_value="Bluum answered 503"),
        attributes=[_kv("request_id", "req_abc"), _kv("retry", True)],
    )
    return logs_service_pb2.ExportLogsServiceRequest(
        resource_logs=[logs_pb2.ResourceLogs(scope_logs=[logs_pb2.ScopeLogs(log_records=[record])])]
    )


# OTLP's JSON mapping: lowerCamelCase, ids in hex, 64-bit integers as strings, enums as integers
TRACE_JSON = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "acme"}}]},
            "scopeSpans": [
                {
                    "scope": {"name": "@opentelemetry/instrumentation-http"},
                    "spans": [
                        {
                            "traceId": TRACE_ID,
                            "spanId": SPAN_ID,
                            "parentSpanId": "",
                            "name": "GET",
                            "kind": 3,
                            "startTimeUnixNano": "1700000000000000000",
                            "endTimeUnixNano": "1700000000012500000",
                            "attributes": [
                                {"key": "http.method", "value": {"stringValue": "GET"}},
                                {"key": "http.url", "value": {"stringValue": "http://127.0.0.1:9/v1/investors/inv_1"}},
                                {"key": "http.status_code", "value": {"intValue": "200"}},
                                {"key": "http.response.header.x_request_id", "value": {"stringValue": "req_abc"}},
                            ],
                            "status": {},
                            "someFieldFromTheFuture": 1,
                        }
                    ],
                }
            ],
        }
    ]
}


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
def client(telemetry: Telemetry) -> Iterator[httpx.Client]:
    transport = SyncASGITransport(create_app(telemetry))
    with httpx.Client(transport=transport, base_url="http://receiver") as c:
        yield c
    transport.close()


def test_a_protobuf_trace_export_is_read_with_its_attributes_events_and_status(client, telemetry):
    response = client.post("/v1/traces", content=trace_request().SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert trace_service_pb2.ExportTraceServiceResponse.FromString(response.content).ByteSize() == 0  # full success
    answered, failed = telemetry.spans
    assert (answered.trace_id, answered.span_id) == (TRACE_ID, SPAN_ID)
    assert (answered.kind, answered.status) == ("client", "ERROR")
    assert answered.attributes["http.response.header.x-request-id"] == ["req_abc"]
    assert answered.attributes["http.response.status_code"] == 503
    assert answered.duration_ms == 12.5
    assert answered.resource == {"service.name": "acme"} and answered.scope == "opentelemetry.instrumentation.httpx"
    fields = failed.logged().fields
    assert fields is not None
    assert fields["exception.type"] == "httpx.ReadTimeout" and fields["span_status_message"] == "ReadTimeout"
    assert fields["duration_ms"] == 500.0


def test_the_json_mapping_is_read_hex_ids_camel_case_and_int64_strings(client, telemetry):
    response = client.post("/v1/traces", content=json.dumps(TRACE_JSON), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json" and response.json() == {}
    (span,) = telemetry.spans
    assert (span.trace_id, span.span_id, span.parent_span_id) == (TRACE_ID, SPAN_ID, "")
    assert span.attributes["http.status_code"] == 200 and span.start_ns == 1_700_000_000_000_000_000
    assert span.scope == "@opentelemetry/instrumentation-http"


def test_a_gzip_body_is_read(client, telemetry):
    body = gzip.compress(logs_request().SerializeToString())
    response = client.post("/v1/logs", content=body, headers={**PROTOBUF, "content-encoding": "gzip"})
    assert response.status_code == 200
    (record,) = telemetry.log_records
    assert isinstance(record, LogRecord)
    assert (record.body, record.severity_text, record.level) == ("Bluum answered 503", "WARN", 30)
    assert record.attributes == {"request_id": "req_abc", "retry": True}
    logged = record.logged()
    assert logged.source == "otlp log" and logged.message == "Bluum answered 503" and "req_abc" in logged.text


def test_metrics_are_accepted_and_dropped(client, telemetry):
    response = client.post("/v1/metrics", content=b"", headers=PROTOBUF)  # an empty message is a valid one
    assert response.status_code == 200 and telemetry.exports["metrics"] == 1


@pytest.mark.parametrize(
    ("body", "headers", "says"),
    [
        (b"\xff\xff\xff", PROTOBUF, "not a protobuf ExportTraceServiceRequest"),
        (b"{not json", JSON, "not JSON"),
        (b"[]", JSON, "not an object"),
        (
            json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "AAAA==="}]}]}]}).encode(),
            JSON,
            "traceId 'AAAA===' is not hex",
        ),  # fmt: skip
        (json.dumps({"resourceSpans": "many"}).encode(), JSON, "not an OTLP ExportTraceServiceRequest"),
        (b"not gzip", {**PROTOBUF, "content-encoding": "gzip"}, "not valid gzip"),
        (b"", {**PROTOBUF, "content-encoding": "br"}, "Content-Encoding br is not supported"),
    ],
    ids=["protobuf", "json", "json-array", "id-not-hex", "json-shape", "gzip", "encoding"],
)
def test_a_malformed_export_is_answered_400_with_a_status_saying_what_is_wrong(client, telemetry, body, headers, says):
    response = client.post("/v1/traces", content=body, headers=headers)
    assert response.status_code == 400
    if response.headers["content-type"] == "application/json":
        message = response.json()["message"]
    else:
        message = status_pb2.Status.FromString(response.content).message
    assert says in message, message
    assert telemetry.spans == [] and telemetry.rejected == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/grpc", None])
def test_another_media_type_is_answered_415(client, telemetry, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/traces", content=trace_request().SerializeToString(), headers=headers)
    assert response.status_code == 415
    assert "send application/x-protobuf or application/json" in response.json()["message"]
    assert telemetry.spans == []


def test_only_post_to_the_signal_paths(client):
    assert client.get("/v1/traces").status_code == 405
    assert client.post("/v1/profiles", content=b"", headers=PROTOBUF).status_code == 404


def test_settle_returns_once_the_expected_spans_arrived_and_at_once_for_a_silent_integration(telemetry):
    # nothing ever exported, nothing expected: no wait at all
    assert telemetry.settle(set(), timeout=2.0, quiet_s=0.25).waited_s < 0.05
    span = Span(TRACE_ID, SPAN_ID, "", "GET", "client", time.time_ns(), time.time_ns(), {})
    threading.Timer(0.05, lambda: telemetry.add("traces", [span])).start()
    settled = telemetry.settle({SPAN_ID}, timeout=2.0, quiet_s=0.25)
    assert settled.missing == [] and 0.04 <= settled.waited_s < 1.0
    # a span that never comes: bounded
    assert telemetry.settle({"0" * 15 + "1"}, timeout=0.1, quiet_s=0.25).missing == ["0" * 15 + "1"]


def test_over_a_real_socket_the_sdk_exporters_deliver_spans_and_log_records():
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    with OtlpReceiver() as receiver:
        assert receiver.endpoint.startswith("http://127.0.0.1:")
        resource = Resource.create({"service.name": "socket-test"})
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(f"{receiver.endpoint}/v1/traces")))
        with tracer_provider.get_tracer("test").start_as_current_span("GET", attributes={"url.path": "/v1/assets"}):
            pass
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(OTLPLogExporter(f"{receiver.endpoint}/v1/logs"))
        )
        logger_provider.get_logger("test").emit(body="hello", attributes={"request_id": "req_1"})
        tracer_provider.shutdown()
        logger_provider.shutdown()
        (span,) = receiver.telemetry.spans
        assert span.name == "GET" and span.attributes == {"url.path": "/v1/assets"}
        assert span.resource["service.name"] == "socket-test"
        (record,) = receiver.telemetry.log_records
        assert record.body == "hello" and record.attributes == {"request_id": "req_1"}
        # and the JSON form over the socket
        answer = httpx.post(f"{receiver.endpoint}/v1/traces", json=TRACE_JSON, timeout=5)
        assert answer.status_code == 200 and len(receiver.telemetry.spans) == 2
