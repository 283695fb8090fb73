"""The proxy's HTTP/1.1 framing helpers: which headers travel end to end, and heads encoded safely."""

from __future__ import annotations

import pytest

from bluum_readiness.proxy._http import BadHeader, encode_fields, end_to_end, response_head


def test_hop_by_hop_headers_and_those_connection_names_are_dropped() -> None:
    headers = (
        ("Host", "x"),
        ("X-Trace", "1"),
        ("connection", "keep-alive, X-Trace , close"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "3"),
        ("Idempotency-Key", "k"),
        ("x-trace", "2"),
    )
    assert end_to_end(headers) == (("Host", "x"), ("Content-Length", "3"), ("Idempotency-Key", "k"))
    assert end_to_end(headers, drop=frozenset({"host", "content-length"})) == (("Idempotency-Key", "k"),)
    plain = (("Accept", "*/*"), ("Connection", "keep-alive"))
    assert end_to_end(plain) == (("Accept", "*/*"),)


@pytest.mark.parametrize(
    "headers",
    [(("X-A", "a\r\nInjected: 1"),), (("X-A", "a\nb"),), (("X-A", "a\0"),), (("Bad Name", "v"),), (("", "v"),),
     (("X:A", "v"),), (("X-A", "caf\u00e9\u2603"),)],
    ids=["crlf", "lf", "nul", "space-in-name", "empty-name", "colon-in-name", "not-latin-1"],
)  # fmt: skip
def test_headers_that_cannot_be_sent_are_refused(headers: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(BadHeader):
        encode_fields(headers)


def test_names_and_values_are_sent_as_given() -> None:
    assert encode_fields((("X-Custom", "Kept-Case"), ("x-latin", "caf\u00e9"))) == (
        b"X-Custom: Kept-Case\r\nx-latin: caf\xe9\r\n"
    )


def test_response_framing_is_recomputed() -> None:
    upstream = (("Content-Length", "999"), ("Transfer-Encoding", "chunked"), ("X-Request-Id", "req_1"))
    assert response_head(200, upstream, "GET", 2, True) == (
        b"HTTP/1.1 200 OK\r\nX-Request-Id: req_1\r\nContent-Length: 2\r\n\r\n"
    )
    assert response_head(200, upstream, "HEAD", 0, False) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 999\r\nX-Request-Id: req_1\r\nConnection: close\r\n\r\n"
    )  # a HEAD answer keeps the upstream's length
    assert response_head(204, upstream, "DELETE", 0, True) == b"HTTP/1.1 204 No Content\r\nX-Request-Id: req_1\r\n\r\n"
    assert response_head(599, (), "GET", 0, True) == b"HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n"
