"""The envelope judge used by the fuzz tests flags every way a 4xx can break Bluum's error envelope."""

from __future__ import annotations

import json

import pytest

from tests.reliability.envelope import DOCUMENTED_CODES, envelope_problem

HEADERS = {"x-request-id": "req_1"}


def _body(**error: object) -> bytes:
    return json.dumps({"error": error}).encode()


def test_a_proper_envelope_passes():
    good = _body(type="invalid_request_error", code="BLUM-400-002", message="missing", param="amount")
    assert envelope_problem(400, HEADERS, good) is None
    idem = _body(type="idempotency_error", code="BLUM-409-002", message="conflict")
    assert envelope_problem(409, HEADERS, idem) is None


@pytest.mark.parametrize(
    ("status", "headers", "body", "problem"),
    [
        (400, {}, _body(type="invalid_request_error", code="BLUM-400-001", message="m"), "X-Request-Id"),
        (404, HEADERS, b"Not Found", "not JSON"),
        (404, HEADERS, json.dumps({"detail": "Not Found"}).encode(), "no 'error' object"),
        (400, HEADERS, _body(type="invalid_request_error", code="VALIDATION", message="m"), "not in the catalogue"),
        (404, HEADERS, _body(type="not_found_error", code="BLUM-400-001", message="m"), "does not match"),
        (409, HEADERS, _body(type="conflict_error", code="BLUM-409-002", message="m"), "expected 'idempotency_error'"),
        (401, HEADERS, _body(type="authentication_error", code="BLUM-401-001", message=""), "message"),
        (400, HEADERS, _body(type="invalid_request_error", code="BLUM-400-003", message="m", param=3), "param"),
    ],
)
def test_a_broken_envelope_is_named(status, headers, body, problem):
    found = envelope_problem(status, headers, body)
    assert found is not None and problem in found


def test_the_catalogue_is_the_documented_one():
    assert len(DOCUMENTED_CODES) == 8 + 5 + 4 + 3 + 3 + 5 + 1 + 2
    assert {"BLUM-400-008", "BLUM-422-005", "BLUM-429-001", "BLUM-500-017"} <= DOCUMENTED_CODES
    assert "BLUM-400-009" not in DOCUMENTED_CODES
