"""Spans and log records read as log entries with the HTTP semantic conventions (the stable names and the older
ones), judged as data by the log checks: a span carrying the exchange's X-Request-Id in a captured header — or in
any attribute — logs it; a span without it is "in a span without its X-Request-Id"; a failed span names its
failure; a secret or an investor's tax id in a span attribute or a log record's body is found and its source named."""

from __future__ import annotations

import json

import pytest

from bluum_readiness.checks import _logs, registry
from bluum_readiness.checks.judge import Finding, Passed, judge
from bluum_readiness.checks.observability.personal_data import PERSONAL_DATA
from bluum_readiness.checks.observation import Observation
from bluum_readiness.harness import LogLine
from bluum_readiness.otlp import LogRecord, Span
from bluum_readiness.otlp.records import SpanEvent, traceparent_span_id
from bluum_readiness.proxy.recorder import Exchange

PATH = "/v1/investors/inv_1"
STABLE = {"http.request.method": "GET", "url.full": f"http://127.0.0.1:9{PATH}", "http.response.status_code": 503}
OLD = {"http.method": "GET", "http.url": f"http://127.0.0.1:9{PATH}?x=1", "http.status_code": 503}


def _exchange(seq: int, status: int | None, method: str = "GET", path: str = PATH) -> Exchange:
    return Exchange(seq, method, path, "", None, "key", (), "", 0, status, f"req_{seq}" if status else None, (),
                    0.0, 0.01, 10.0, status, 1.0, True, None, None, "forwarded")  # fmt: skip


def _span(attributes: dict[str, object], status: str = "UNSET", events: tuple[SpanEvent, ...] = ()) -> LogLine:
    span = Span("ab" * 16, "cd" * 8, "", "GET", "client", 1_000_000, 13_500_000, attributes, events, status)
    return LogLine(**span.logged()._asdict())


def _request_log(lines: list[LogLine], exchanges: list[Exchange]) -> object:
    spec = registry.get("observability.request-log").judge
    assert spec is not None
    facts = {"exchanges": tuple(exchanges), "log": tuple(lines), "programs": 1, "request_log": None}
    return judge(spec, {"mixed-traffic": Observation("mixed-traffic", facts)})


@pytest.mark.parametrize("conventions", [STABLE, OLD], ids=["stable", "old"])
@pytest.mark.parametrize(
    "request_id",
    [
        {"http.response.header.x-request-id": ["req_1"]},  # the spec's name
        {"http.response.header.x_request_id": ["req_1"]},  # Python's and Node's normalised one
        {"bluum.request_id": "req_1"},  # any attribute holding it
    ],
    ids=["header", "normalised-header", "custom-attribute"],
)
def test_a_span_with_the_request_id_logs_its_exchange(conventions, request_id):
    verdict = _request_log([_span({**conventions, **request_id}, "ERROR")], [_exchange(1, 503)])
    assert isinstance(verdict, Passed), verdict
    (entry,) = _logs.read([_span({**conventions, **request_id})])
    assert (entry.get("method"), entry.get("status"), entry.get("duration")) == ("GET", 503, 12.5)
    assert _logs.same_path(entry.get("path"), PATH)


def test_a_span_without_the_request_id_is_named_with_its_setting():
    verdict = _request_log([_span(STABLE)], [_exchange(1, 503)])
    assert isinstance(verdict, Finding) and verdict.cause == "spans-without-request-id"
    assert verdict.observed.startswith("1 of 1 exchanges are in spans without their X-Request-Id")
    assert "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE=x-request-id" in str(verdict.fix)


def test_a_failed_span_names_its_failure_by_error_type_or_exception_event():
    by_type = _logs.read([_span({"http.request.method": "POST", "url.path": "/v1/x/deposits",
                                 "error.type": "httpx.ReadTimeout"}, "ERROR")])  # fmt: skip
    exception = SpanEvent("exception", 2, {"exception.type": "ConnectionResetError", "exception.message": "reset"})
    by_event = _logs.read([_span({"http.method": "POST", "http.url": "http://h/v1/x/deposits"}, "ERROR", (exception,))])
    for (entry,) in (by_type, by_event):
        assert _logs.names_failure(entry, "POST", "/v1/x/deposits"), entry
        assert entry.level == 40
    # an answered span is no failure
    (answered,) = _logs.read([_span({**STABLE, "http.request.method": "POST", "url.full": "http://h/v1/x/deposits"})])
    assert not _logs.names_failure(answered, "POST", "/v1/x/deposits")


def test_a_log_record_body_is_read_as_a_line_would_be():
    record = LogRecord(5, json.dumps({"method": "GET", "path": PATH, "status": 200, "request_id": "req_7",
                                      "duration_ms": 3}), {"logger": "acme"}, 9, "INFO")  # fmt: skip
    (entry,) = _logs.read([LogLine(**record.logged()._asdict())])
    assert (entry.source, entry.kind, entry.level) == ("otlp log", "json", 20)
    assert _logs.exchange_problems(entry, _exchange(7, 200)) == [] and entry.mentions("req_7")


def test_span_attributes_and_log_bodies_are_scanned_for_secrets_and_personal_data():
    leaked = [
        _span({**STABLE, "http.request.body": f'{{"tax_id": "{PERSONAL_DATA["tax_id"]}"}}'}),
        LogLine(**LogRecord(5, f"account {PERSONAL_DATA['account_number']}", {}).logged()._asdict()),
    ]
    texts = _logs.sources(leaked)
    assert set(texts) == {"Python logging", "OpenTelemetry spans", "OpenTelemetry log records"}
    spec = registry.get("observability.no-personal-data-in-logs").judge
    assert spec is not None
    facts = {"sources": [[where, text] for where, text in texts.items()]}
    verdict = judge(spec, {"personal-data": Observation("personal-data", facts)})
    assert isinstance(verdict, Finding)
    assert "tax_id (as given) in OpenTelemetry spans" in verdict.observed
    assert "account_number (as given) in OpenTelemetry log records" in verdict.observed
    assert _logs.sizes(leaked, texts)["OpenTelemetry spans"]["lines"] == 1


@pytest.mark.parametrize(
    ("header", "span_id"),
    [
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "b7ad6b7169203331"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", None),  # not sampled: never exported
        ("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_the_span_an_exchange_waits_for_is_its_sampled_traceparents(header, span_id):
    assert traceparent_span_id(header) == span_id
