"""The exception tree and its one boundary: every catalogue code maps to a class; messages carry code and
request id; transport failures become TransportError subclasses."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from bluum_readiness.reference import (
    CODE_CLASSES,
    AccountNotApproved,
    APIError,
    AuthenticationError,
    BluumError,
    Conflict,
    ConnectionDropped,
    IdempotencyConflict,
    InsufficientFunds,
    InsufficientPosition,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    Unprocessable,
    error_from_response,
)
from bluum_readiness.reference._translate import STATUS_CLASSES, error_from_transport, parse_retry_after
from bluum_readiness.twin.errors import CATALOGUE, error_body

STATUS_BASES: dict[int, type[APIError]] = {**STATUS_CLASSES, 500: ServerError}


def _response(status: int, body: object = None, *, text: str | None = None, **headers: str) -> httpx.Response:
    request = httpx.Request("POST", "https://sandbox.example.test/v1/investors/inv_1/deposits")
    if text is not None:
        return httpx.Response(status, text=text, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_every_catalogue_code_maps_to_a_class():
    unmapped = sorted(set(CATALOGUE) - set(CODE_CLASSES))
    assert not unmapped, f"codes without an exception class: {unmapped}"
    for code, entry in CATALOGUE.items():
        exc = error_from_response(_response(entry.status, error_body(code, entry.meaning), **{"X-Request-Id": "req_1"}))
        assert type(exc) is CODE_CLASSES[code], code
        assert isinstance(exc, STATUS_BASES[entry.status]), f"{code} is not a {STATUS_BASES[entry.status].__name__}"
        assert (exc.status, exc.code, exc.message, exc.request_id) == (entry.status, code, entry.meaning, "req_1")


def test_the_table_holds_no_code_outside_the_catalogue():
    assert set(CODE_CLASSES) <= set(CATALOGUE)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("BLUM-403-002", AccountNotApproved),
        ("BLUM-409-002", IdempotencyConflict),
        ("BLUM-422-001", InsufficientFunds),
        ("BLUM-422-004", InsufficientPosition),
    ],
)
def test_specific_codes_get_specific_classes(code, cls):
    assert CODE_CLASSES[code] is cls


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequest),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (422, Unprocessable),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, APIError),
    ],
)
def test_unknown_codes_and_bodies_without_one_fall_back_to_the_status(status, cls):
    by_new_code = error_from_response(_response(status, {"error": {"code": f"BLUM-{status}-999", "message": "m"}}))
    gateway_page = error_from_response(_response(status, text="<html>Bad Gateway</html>"))
    assert type(by_new_code) is cls and type(gateway_page) is cls
    assert gateway_page.code is None and gateway_page.message == "<html>Bad Gateway</html>"


def test_the_legacy_envelope_is_read():
    exc = error_from_response(_response(403, {"status": "error", "code": "PRODUCT_NOT_ENABLED", "message": "no"}))
    assert type(exc) is PermissionDenied and exc.code == "PRODUCT_NOT_ENABLED" and exc.message == "no"


def test_str_and_repr_show_code_message_param_and_request_id():
    body = error_body("BLUM-400-002", "Idempotency-Key is required", param="Idempotency-Key")
    exc = error_from_response(_response(400, body, **{"X-Request-Id": "req_abc"}))
    assert str(exc) == (
        "BLUM-400-002: Idempotency-Key is required [param: Idempotency-Key] (HTTP 400, request id req_abc)"
    )
    assert "BLUM-400-002" in repr(exc) and "req_abc" in repr(exc)
    assert (exc.method, exc.path, exc.param) == ("POST", "/v1/investors/inv_1/deposits", "Idempotency-Key")


def test_rate_limited_carries_retry_after_in_seconds():
    exc = error_from_response(_response(429, error_body("BLUM-429-001", "slow down"), **{"Retry-After": "2"}))
    assert isinstance(exc, RateLimited) and exc.retry_after == 2.0
    no_header = error_from_response(_response(429, error_body("BLUM-429-001", "slow down")))
    assert isinstance(no_header, RateLimited) and no_header.retry_after is None


def test_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(email.utils.formatdate(1_000_010, usegmt=True), now=1_000_000) == pytest.approx(10)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("raised", "cls"),
    [
        (httpx.ReadTimeout("read timed out"), RequestTimeout),
        (httpx.ConnectTimeout("connect timed out"), RequestTimeout),
        (httpx.PoolTimeout("pool"), RequestTimeout),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), ConnectionDropped),
        (httpx.ReadError("Connection reset by peer"), ConnectionDropped),
        (httpx.ConnectError("Connection refused"), ConnectionDropped),
        (httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'"), TransportError),
    ],
)
def test_transport_exceptions_map_to_transport_errors(raised, cls):
    exc = error_from_transport(raised, method="GET", path="/v1/investors/inv_1")
    assert type(exc) is cls and isinstance(exc, BluumError)
    assert str(exc).startswith("GET /v1/investors/inv_1: ")
