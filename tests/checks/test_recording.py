"""The recordings' format (``tests/checks/recorded/recording.py``): what a recording keeps of an observation, that
reading it back restores what the judges read exactly, and the proof every recorder runs before writing a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bluum_readiness.checks.observation import Observation, Outcome, Probe
from bluum_readiness.harness import LogLine
from bluum_readiness.proxy.recorder import Exchange
from tests.checks.recorded import recording

ROOTS = (Path(recording.__file__).parent, Path(__file__).parents[1] / "protocol" / "recorded")
FILES = sorted(p for root in ROOTS for p in root.rglob("*.json"))


def _exchange(seq: int, started: float, finished: float, **changes: object) -> Exchange:
    fields: dict[str, object] = {
        "seq": seq, "method": "POST", "path": "/v1/investors/inv_1/deposits", "query": "",
        "idempotency_key": "k-1", "auth_key_id": "test_bluum_key", "request_headers": (("Authorization", "Basic *"),),
        "body_sha256": "ab" * 32, "body_size": 42, "status": 503, "request_id": "req_1",
        "response_headers": (("Retry-After", "1"),), "started": started, "finished": finished,
        "duration_ms": round((finished - started) * 1000, 3), "upstream_status": None, "upstream_ms": None,
        "upstream_committed": False, "fault": "storm-503", "fault_kind": "status", "outcome": "status", "error": None,
    }  # fmt: skip
    return Exchange(**{**fields, **changes})  # type: ignore[arg-type]


def _observation() -> Observation:
    probe = Probe(
        "deposit()",
        Outcome("returned", result="'dep_1'"),
        (
            _exchange(1, 1796641386.6698368, 1796641386.6703486),
            _exchange(2, 1796641386.8808786, 1796641386.8809363, status=201, fault=None, duration_ms=0.1),
        ),
        elapsed_s=0.2163255799998296,
    )
    log = [
        LogLine("logging", "acme.client WARNING deposit failed", 30, "acme.client", "deposit failed", {"n": 1}),
        LogLine("logging", "acme.client INFO custom text", 20, "acme.client", "another message"),
        LogLine("logging", "httpcore.http11 DEBUG send_request_headers.started", 10, "httpcore.http11", "x"),
        LogLine("stderr", '{"msg": "deposit failed"}'),
    ]
    return Observation("storm", {"probe": probe, "log": log}, {"state": "no resource_status()"}, {"shown": 1})


def test_a_recording_restores_what_the_judges_read_and_blanks_the_rest():
    observed = _observation()
    [restored] = recording.parse(recording.dumps({"storm": recording.kept(observed)})).values()
    probe, seen = restored.facts["probe"], observed.facts["probe"]
    assert (probe.operation, probe.outcome, probe.elapsed_s) == (seen.operation, seen.outcome, seen.elapsed_s)
    for got, was in zip(probe.attempts, seen.attempts, strict=True):
        kept = ("seq", "method", "path", "query", "idempotency_key", "body_sha256", "status", "request_id", "fault")
        assert [getattr(got, f) for f in kept] == [getattr(was, f) for f in kept]
        # the timing exactly as observed, duration_ms too (derived, or kept when it is not what the times give)
        assert (got.started, got.finished, got.duration_ms) == (was.started, was.finished, was.duration_ms)
        assert (got.auth_key_id, got.request_headers, got.response_headers, got.upstream_ms) == (None, (), (), None)
    # the log without httpcore's trace; a message the text does not end with is kept
    assert restored.facts["log"] == [line for line in observed.facts["log"] if line.logger != "httpcore.http11"]
    assert restored.missing == observed.missing and restored.evidence == {}


def test_a_recording_holds_one_attempt_a_line_without_what_no_judge_reads():
    text = recording.dumps({"storm": recording.kept(_observation())})
    attempts = [line for line in text.splitlines() if '"seq": ' in line]
    assert len(attempts) == 2 and all(line.strip().startswith('{"seq"') for line in attempts)
    for dropped in ("auth_key_id", "request_headers", "upstream_ms", "fault_kind", "Retry-After", "httpcore"):
        assert dropped not in text
    assert '"duration_ms": 0.1' in text and text.count("duration_ms") == 1  # kept only where not derived


def test_the_proof_refuses_a_recording_that_judges_differently():
    observed = recording.load(ROOTS[0] / "variants" / "no_backoff.json")
    other = (ROOTS[0] / "variants" / "no_jitter.json").read_text()
    own = recording.dumps({s: recording.kept(o) for s, o in observed.items()})
    assert recording.prove("no_backoff", observed, own) > 0
    with pytest.raises(AssertionError, match="refusing to write no_backoff: error-handling"):
        recording.prove("no_backoff", observed, other)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(Path(__file__).parents[1])))
def test_every_recording_is_what_its_recorder_writes(path):
    """No hand edit, no older format: the file is the trimmed form of what it holds (and so reads one attempt a
    line, and its judges' verdicts are those ``write`` proved)."""
    text = path.read_text()
    observations = recording.parse(text)
    assert recording.dumps({s: recording.kept(o) for s, o in observations.items()}) + "\n" == text
    assert all(isinstance(v, dict) for v in json.loads(text).values())
