"""Reading integration logs as teams write them: JSON (common and OpenTelemetry names), logfmt, Python records
with structured extras, plain text; levels; and the judgements the log checks share."""

from __future__ import annotations

import json
import logging

import pytest

from bluum_readiness.checks import _logs
from bluum_readiness.harness import LogLine
from bluum_readiness.proxy.recorder import Exchange

REQUEST_ID = "req_01m8vgqmk0ry7g6yza7m56hga9"
PATH = "/v1/investors/inv_1/deposits"


def exchange(status: int | None = 201, request_id: str | None = REQUEST_ID) -> Exchange:
    return Exchange(seq=1, method="POST", path=PATH, query="", idempotency_key="k", auth_key_id="key",
                    request_headers=(), body_sha256="", body_size=0, status=status, request_id=request_id,
                    response_headers=(), started=0.0, finished=0.0, duration_ms=1.0, upstream_status=status,
                    upstream_ms=1.0, upstream_committed=True, fault=None, fault_kind=None,
                    outcome="forwarded")  # fmt: skip


def stderr(line: str | dict[str, object]) -> _logs.Entry:
    [entry] = _logs.read([LogLine("stderr", line if isinstance(line, str) else json.dumps(line))])
    return entry


@pytest.mark.parametrize(
    "line",
    [
        # pino / winston: flat, the usual names
        {
            "level": 30,
            "msg": "bluum request",
            "method": "POST",
            "path": PATH,
            "status": 201,
            "request_id": REQUEST_ID,
            "duration_ms": 12.5,
        },  # fmt: skip
        # OpenTelemetry semantic conventions, nested
        {
            "severity_text": "INFO",
            "http": {"request": {"method": "POST"}, "response": {"status_code": 201}},
            "url": {"path": PATH},
            "x_request_id": REQUEST_ID,
            "http.client.request.duration": 0.012,
        },  # fmt: skip
        # camelCase, a full URL, a relative path would do too
        {
            "httpMethod": "post",
            "url": f"http://127.0.0.1:8080{PATH}?x=1",
            "statusCode": "201",
            "requestId": REQUEST_ID,
            "elapsed": "12ms",
        },  # fmt: skip
        # logfmt (Go's slog TextHandler, logrus)
        f'time=2026-12-02T10:00:00Z level=INFO msg="bluum request" method=POST path=/investors/inv_1/deposits '
        f"status=201 request_id={REQUEST_ID} duration=12.5ms",
    ],
    ids=["pino", "opentelemetry", "camel-case", "logfmt"],
)
def test_a_structured_line_logs_the_exchange(line):
    entry = stderr(line)
    assert entry.structured and entry.mentions(REQUEST_ID)
    assert _logs.exchange_problem(entry, exchange()) is None


def test_a_structured_line_needs_method_path_status_and_a_duration():
    line = {"msg": "bluum request", "method": "GET", "status": 500, "request_id": REQUEST_ID}
    assert _logs.exchange_problem(stderr(line), exchange()) == "method 'GET', no path, status 500, no duration"


def test_a_plain_text_line_logs_the_exchange_without_a_duration():
    assert _logs.exchange_problem(stderr(f"POST /investors/inv_1/deposits -> 201 ({REQUEST_ID})"), exchange()) is None
    problem = _logs.exchange_problem(stderr(f"deposit created ({REQUEST_ID}) in 12.201 ms"), exchange())
    assert problem == "no method, no path, no status 201"  # "201" inside 12.201 is not a status


def test_python_records_are_structured_by_their_extras_or_a_json_message():
    extras = LogLine("logging", "app INFO POST done", logging.INFO, "app", "POST done",
                     {"bluum_exchange": {"method": "POST", "path": PATH, "status": 201, "request_id": REQUEST_ID,
                                         "duration_ms": 3.0}})  # fmt: skip
    structlog = LogLine("logging", "app INFO {...}", logging.INFO, "app",
                        json.dumps({"event": "bluum request", "method": "POST", "path": PATH, "status": 201,
                                    "request_id": REQUEST_ID, "duration": 0.003}))  # fmt: skip
    for entry in _logs.read([extras, structlog]):
        assert entry.structured and entry.level == logging.INFO
        assert _logs.exchange_problem(entry, exchange()) is None


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ({"level": 40, "msg": "x"}, logging.WARNING),  # pino's numbers
        ({"level": 50, "msg": "x"}, logging.ERROR),
        ({"level": 30, "msg": "x"}, logging.INFO),
        ({"severity": "WARNING", "msg": "x"}, logging.WARNING),
        ({"level": "warn", "msg": "x"}, logging.WARNING),
        ("2026-12-02 10:00:00.123 ERROR c.a.BluumClient - refused", logging.ERROR),  # logback
        ("time=now level=warn msg=refused code=BLUM-400-001", logging.WARNING),  # logfmt
        ("2026/12/02 10:00:00 deposit refused", None),  # Go's log: no level
    ],
)
def test_levels_are_read_in_their_usual_spellings(line, level):
    assert stderr(line).level == level


def test_a_failure_line_names_method_path_and_what_went_wrong():
    assert _logs.names_failure(stderr({"method": "POST", "path": PATH, "status": None, "error": "ETIMEDOUT"}),
                               "POST", PATH)  # fmt: skip
    assert _logs.names_failure(stderr(f"WARN POST {PATH} -> no response (ReadTimeout: timed out)"), "POST", PATH)
    assert not _logs.names_failure(stderr({"method": "POST", "path": PATH, "status": 201}), "POST", PATH)
    assert not _logs.names_failure(stderr(f"INFO POST {PATH} -> 201"), "POST", PATH)
    assert not _logs.names_failure(stderr("ERROR connection reset"), "POST", PATH)  # which request?


def test_a_warning_must_name_the_code_or_the_message():
    code, message = "BLUM-400-001", "The request body is invalid"
    assert _logs.warns_about(stderr({"level": "error", "msg": "deposit refused", "code": code}), code, message)
    assert _logs.warns_about(stderr(f"WARN deposit refused: {message}"), code, message)
    assert not _logs.warns_about(stderr({"level": "info", "msg": "refused", "code": code}), code, message)
    assert not _logs.warns_about(stderr({"level": "error", "msg": "something failed"}), code, message)


def test_scanned_counts_lines_and_bytes_per_source():
    lines = [LogLine("stderr", "é"), LogLine("stderr", "ab"), LogLine("logging", "x")]
    assert _logs.scanned(lines) == {"stderr": {"lines": 2, "bytes": 4}, "logging": {"lines": 1, "bytes": 1}}


# -- lines as real loggers write them (issue 13, tried with structlog, pino and httpx) ------------------------


def test_fields_the_structure_lacks_may_be_said_in_words():
    """``logger.info("POST /v1/… -> 201", extra={"request_id": …})`` and pino's ``log.info({reqId, responseTime},
    "POST /v1/… 201")``: the method, path and status are in the message, the request id in a field."""
    record = LogLine("logging", f"app INFO POST {PATH} -> 201", logging.INFO, "app", f"POST {PATH} -> 201",
                     {"request_id": REQUEST_ID})  # fmt: skip
    [entry] = _logs.read([record])
    assert entry.kind == "record" and entry.mentions(REQUEST_ID)
    assert _logs.exchange_problem(entry, exchange()) is None  # words only: no duration needed
    pino = {"level": 30, "reqId": REQUEST_ID, "responseTime": 3.2, "msg": f"POST {PATH} 201"}
    assert _logs.exchange_problem(stderr(pino), exchange()) is None
    # a JSON line still needs its duration, and a status in words must be the exchange's
    assert _logs.exchange_problem(stderr({"reqId": REQUEST_ID, "msg": f"POST {PATH} 201"}), exchange()) == "no duration"
    assert _logs.exchange_problem(stderr({"reqId": REQUEST_ID, "ms": 3, "msg": f"POST {PATH} 200"}), exchange()) == (
        "no status"
    )
    # logfmt after words: the status and duration in pairs, the method and path said
    logfmt = f"POST {PATH} status=201 request_id={REQUEST_ID} duration_ms=3"
    assert _logs.exchange_problem(stderr(logfmt), exchange()) is None


def test_structlog_processor_formatter_records_are_read_as_their_event_dict():
    """structlog's stdlib integration (``ProcessorFormatter.wrap_for_formatter``) hands logging the event dict
    itself as the record's message: its keys are the line's fields, and the text is JSON, not a Python repr."""
    from bluum_readiness.harness import LogCapture, _ListHandler

    event = {"event": "bluum_http", "method": "POST", "path": PATH.removeprefix("/v1"), "status_code": 201,
             "request_id": REQUEST_ID, "duration_ms": 4.2, "level": "info", "_logger": object()}  # fmt: skip
    record = logging.LogRecord("acme.bluum", logging.INFO, __file__, 1, event, (), None)
    record._logger = object()  # what wrap_for_formatter adds as extra (not JSON-like: left out)
    record._name = "acme.bluum"
    sink = LogCapture()
    _ListHandler(sink).emit(record)
    [entry] = _logs.read(sink.lines)
    assert entry.kind == "json" and entry.get("status") == 201
    assert '"request_id": "' + REQUEST_ID in entry.text
    assert _logs.exchange_problem(entry, exchange()) is None


def test_a_pino_error_object_names_the_failure():
    """pino's err serializer writes ``err: {type, message, stack, code}`` beside a generic message."""
    line = {"level": 40, "err": {"type": "TypeError", "message": "fetch failed", "code": "UND_ERR_SOCKET"},
            "req": {"method": "POST", "url": PATH}, "msg": "request failed"}  # fmt: skip
    assert _logs.names_failure(stderr(line), "POST", PATH)
    timeout = {"level": 50, "err": {"type": "DOMException", "message": "The operation was aborted due to timeout"},
               "method": "POST", "url": PATH, "msg": "bluum call failed"}  # fmt: skip
    assert _logs.names_failure(stderr(timeout), "POST", PATH)
    # a status that is no HTTP answer (fetch wrappers log 0, OpenTelemetry "ERROR") is still no answer
    assert _logs.names_failure(stderr({"method": "POST", "path": PATH, "status": 0, "error": "ECONNRESET"}),
                               "POST", PATH)  # fmt: skip
    assert _logs.names_failure(
        stderr({"http.request.method": "POST", "url.path": PATH, "otel.status_code": "ERROR", "error.type": "timeout"}),
        "POST",
        PATH,
    )
    # words: "POST … failed" in the message, the error in a field
    assert _logs.names_failure(stderr({"msg": f"POST {PATH} failed", "err": {"code": "ECONNRESET"}}), "POST", PATH)
    assert not _logs.names_failure(stderr({"err": {"code": "ECONNRESET"}, "msg": "request failed"}), "POST", PATH)


def test_a_line_without_the_request_id_is_named_as_the_nearest_miss():
    """An httpx integration: httpcore's DEBUG line holds the X-Request-Id (from the response headers) but not the
    method or path; the integration's own line logs the exchange without the id. The finding names the missing id,
    not the library's line."""
    from bluum_readiness.checks.observability.request_log import _log_line_problems

    httpcore = LogLine("logging", f"httpcore.http11 DEBUG receive_response_headers.complete return_value=(b'HTTP/1.1'"
                       f", 201, b'Created', [(b'X-Request-Id', b'{REQUEST_ID}')])", logging.DEBUG)  # fmt: skip
    said = json.dumps({"event": "bluum_http", "method": "POST", "path": PATH, "status_code": 201, "request_id": None,
                       "duration_ms": 3.0})  # fmt: skip
    own = LogLine("logging", f"acme INFO {said}", logging.INFO, "acme", said)
    problem, line = _log_line_problems(exchange(), _logs.read([httpcore, own]))
    assert line is None and problem is not None
    assert "logged without its X-Request-Id" in problem and "bluum_http" in problem, problem
    # only the library's line: it is the nearest miss, and says what it lacks
    problem, _ = _log_line_problems(exchange(), _logs.read([httpcore]))
    assert problem is not None and "carries its X-Request-Id but no method, no path" in problem
    # the integration's line with the id but no duration is named as it is, not the id-less access line
    with_id = LogLine("stderr", json.dumps({"method": "POST", "path": PATH, "status": 201, "request_id": REQUEST_ID}))
    httpx = LogLine("logging", f'httpx INFO HTTP Request: POST http://127.0.0.1:1{PATH} "HTTP/1.1 201 Created"', 20)
    problem, _ = _log_line_problems(exchange(), _logs.read([httpx, with_id]))
    assert problem is not None and "but no duration" in problem, problem
    from bluum_readiness.checks.observability.request_log import _headline

    assert _headline(["x: logged without its X-Request-Id (…)", "y: no path"], 5).startswith(
        "1 of 5 exchanges are logged without their X-Request-Id (2 problem(s) in all)"
    )


def test_a_swallowed_refusal_is_named_with_the_integrations_own_access_line():
    """400-not-retried on an httpx integration that returns an empty result: the finding quotes the integration's
    access line (it shows the 400 with the request id), not httpcore's debug line that merely holds the id."""
    from bluum_readiness.checks.error_handling import _surfaced_in_logs
    from bluum_readiness.checks.observation import Outcome, Probe

    refused = exchange(status=400)
    own = json.dumps({"event": "bluum_http", "method": "POST", "path": PATH, "status_code": 400,
                      "request_id": REQUEST_ID, "duration_ms": 2.0})  # fmt: skip
    lines = (
        LogLine("logging", f"httpcore DEBUG return_value=(b'HTTP/1.1', 400, [(b'X-Request-Id', b'{REQUEST_ID}')])",
                logging.DEBUG),
        LogLine("logging", f'httpx INFO HTTP Request: POST http://127.0.0.1:1{PATH} "HTTP/1.1 400 Bad Request"', 20),
        LogLine("logging", f"acme INFO {own}", logging.INFO, "acme", own),
    )  # fmt: skip
    probe = Probe("deposit()", Outcome("returned", result="''"), (refused,))
    refusal = {"probe": probe, "code": "BLUM-400-001", "message": "Generic validation error", "log": lines}
    finding = _surfaced_in_logs(refusal)
    assert finding is not None and finding.cause == "failure-swallowed"
    assert "as if it had succeeded, while only an access-log line shows the 400 (logging: acme INFO" in finding.observed
    assert finding.evidence["refusals_logged"][0]["scanned"] == _logs.scanned(lines)


def test_the_suites_own_parts_log_lines_are_not_the_integrations_log() -> None:
    """The embedded twin and the proxy run in the integration's process: a line their threads log while a check
    captures (a parked webhook delivery of an earlier check, say) is not the integration's log — it hid the
    'no Python log record but an HTTP library's' hint now and then. The integration's own lines are kept."""
    from bluum_readiness.harness import CredentialStore, Harness
    from bluum_readiness.integration import Credentials
    from bluum_readiness.target import Target

    h = Harness(target=Target(origin="http://127.0.0.1:9", twin=True), proxy=None, factory=lambda env: None,
                credentials=CredentialStore(Credentials("k", "s")))  # fmt: skip
    try:
        with h.capture_logs() as logs:
            logging.getLogger("bluum_readiness.twin.dispatcher").warning("webhook delivery dlv_1 parked")
            logging.getLogger("bluum_readiness.proxy").info("exchange recorded")
            logging.getLogger("acme.bluum").info("GET /v1/investors/inv_1 -> 200")
    finally:
        h.close()
    assert [line.logger for line in logs.lines] == ["acme.bluum"]


def test_records_from_the_suites_own_threads_are_not_the_integrations_log():
    """The twin's webhook deliveries, the proxy, the OTLP and alert listeners log through httpx/httpcore from threads
    of their own: never the integration's log; an integration's own server thread (``uvicorn:``) is read."""
    import logging
    import threading

    from bluum_readiness.harness import CredentialStore, Harness
    from bluum_readiness.integration import Credentials
    from bluum_readiness.target import Target

    def log_from(thread_name: str) -> None:
        thread = threading.Thread(
            target=lambda: logging.getLogger("httpx").info(f"HTTP Request: POST {thread_name}"), name=thread_name
        )
        thread.start()
        thread.join()

    h = Harness(target=Target(origin="http://127.0.0.1:9", twin=True), proxy=None, factory=lambda env: None,
                credentials=CredentialStore(Credentials("k", "s")))  # fmt: skip
    try:
        with h.capture_logs() as logs:
            for name in ("bluum-twin:1", "bluum-proxy:2", "bluum-otlp:3", "bluum-alerts:4", "bluum-suite:5"):
                log_from(name)
            log_from("uvicorn:6")  # the integration's own receiver
    finally:
        h.close()
    assert [line.message for line in logs.lines] == ["HTTP Request: POST uvicorn:6"]


def _stderr(text: str) -> list[LogLine]:
    return [LogLine("stderr", line) for line in text.splitlines()]


NODE_ERROR = f"""Bluum API Error: {{
  status: 400,
  data: {{ code: 'BLUM-400-001', message: 'Generic validation error' }},
  url: '{PATH}',
  method: 'POST',
  requestId: '{REQUEST_ID}',
  duration_ms: 3.5
}}"""


def test_a_node_console_entry_over_many_lines_is_one_entry_with_its_fields():
    """console.error('Bluum API Error:', {status, data, url}) prints one entry over many lines: it was read line by
    line as "no method, no path, no status" while the entry held all three."""
    [before, entry, after] = _logs.read(_stderr(f"starting\n{NODE_ERROR}\ndone"))
    assert before.text == "starting" and after.text == "done"
    assert entry.kind == "json" and entry.get("status") == 400 and entry.get("method") == "POST"
    assert entry.get("path") == PATH and entry.mentions(REQUEST_ID)
    assert _logs.exchange_problems(entry, exchange(status=400)) == []


def test_a_pretty_printed_json_entry_and_a_traceback_are_one_entry_each():
    pretty = json.dumps({"level": "error", "method": "GET", "path": PATH, "error": "ECONNRESET"}, indent=2)
    traceback = 'Traceback (most recent call last):\n  File "adapter.py", line 3, in deposit\n    raise Boom()\nBoom: x'
    json_entry, trace_entry = _logs.read(_stderr(f"{pretty}\n{traceback}"))
    assert json_entry.kind == "json" and json_entry.get("error") == "ECONNRESET" and json_entry.level == logging.ERROR
    assert trace_entry.text == traceback


def test_an_object_that_never_closes_leaves_its_lines_as_they_are():
    lines = _stderr("payload: {\n  status: 400,\nnext line")
    assert [e.text for e in _logs.read(lines)] == [line.text for line in lines]
