"""The structured request log: one entry per HTTP exchange (retries and 401 refreshes included), also logged as
one line per exchange on the ``bluum_readiness.reference`` logger."""

from __future__ import annotations

import logging

import httpx

from bluum_readiness.reference import RequestLog
from bluum_readiness.reference._log import Exchange
from tests.reference._doubles import error, rig

FIELDS = {"method", "path", "status", "request_id", "duration_ms", "attempt", "idempotency_key", "error"}


def test_one_entry_per_exchange_with_its_fields():
    r = rig(error(503), httpx.ReadTimeout("timed out"))
    r.client.create_deposit("inv_1", "10.00", funding_source_id="fs_1")
    entries = r.client.log.entries()
    assert [set(e) for e in entries] == [FIELDS] * 3
    assert [(e["method"], e["path"]) for e in entries] == [("POST", "/v1/investors/inv_1/deposits")] * 3
    assert [e["status"] for e in entries] == [503, None, 201]
    assert [e["attempt"] for e in entries] == [1, 2, 3]
    assert entries[0]["request_id"].startswith("req_") and entries[1]["request_id"] is None
    assert entries[2]["request_id"].startswith("req_")
    assert [e["error"] for e in entries] == [None, "ReadTimeout: timed out", None]  # what went wrong, unanswered
    assert len({e["idempotency_key"] for e in entries}) == 1 and entries[0]["idempotency_key"]
    assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0 for e in entries)


def test_attempts_count_per_operation_and_include_the_401_refresh():
    r = rig(401, 503)
    r.client.get_investor("inv_1")
    r.client.get_investor("inv_1")
    assert [(e["status"], e["attempt"]) for e in r.client.log.entries()] == [(401, 1), (503, 2), (201, 3), (201, 1)]
    assert all(e["idempotency_key"] is None for e in r.client.log.entries())  # reads are not keyed


def test_every_exchange_is_one_log_line(caplog):
    caplog.set_level(logging.DEBUG, logger="bluum_readiness.reference")
    r = rig(error(429, retry_after="1"), httpx.RemoteProtocolError("dropped"))
    r.client.get_investor("inv_1")
    lines = [rec for rec in caplog.records if rec.name == "bluum_readiness.reference"]
    assert len(lines) == 3
    assert [rec.levelno for rec in lines] == [logging.WARNING, logging.WARNING, logging.INFO]
    assert "GET /v1/investors/inv_1 -> 429" in lines[0].getMessage()
    assert "-> no response (RemoteProtocolError: dropped)" in lines[1].getMessage()
    assert lines[2].__dict__["bluum_exchange"] == r.client.log.entries()[2]  # the entry, for structured handlers


def test_retries_are_explained_on_the_retry_logger(caplog):
    caplog.set_level(logging.INFO, logger="bluum_readiness.reference.retry")
    r = rig(error(503))
    r.client.get_investor("inv_1")
    [line] = [rec.getMessage() for rec in caplog.records if rec.name == "bluum_readiness.reference.retry"]
    assert line.startswith(f"retrying in {r.sleeps[0]:.3f} s (attempt 1 of 5 failed: BLUM-500-001")


def test_the_log_keeps_only_the_most_recent_entries():
    log = RequestLog(maxlen=3)
    for attempt in range(1, 6):
        log.record(Exchange("GET", "/v1/assets", 200, f"req_{attempt}", 1.0, attempt, None))
    assert [e["attempt"] for e in log.entries()] == [3, 4, 5]
