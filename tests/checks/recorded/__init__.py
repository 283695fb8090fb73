"""Observations recorded from real runs of the reference and the known-bad integrations, for the judge tests
(``tests/checks/test_webhook_judges.py``, ``test_lifecycle_judges.py``; ``test_variant_judges.py`` for the
known-bad clients of ``tests/integrations/variants.py``, in ``variants/``). Re-record with ``python -m
tests.checks.recorded.record [name ...]``; each file is one integration's observations of the scenarios named for
it in ``record.py``, trimmed to what the judges read (``recording.py``: its recorder refuses a file any judge would
judge differently from the facts as observed)."""

from __future__ import annotations

from pathlib import Path

from bluum_readiness.checks.judge import Finding, Passed, Unjudged, judge
from bluum_readiness.checks.observation import Observation
from bluum_readiness.checks.registry import Check
from tests.checks.recorded import recording
from tests.checks.recorded.recording import dumps

__all__ = ["HERE", "NV", "dumps", "load", "names", "verdicts"]

HERE = Path(__file__).parent
NV = "not verifiable"


def load(name: str) -> dict[str, Observation]:
    """The observations recorded for the integration ``name`` (``<name>.json``), by scenario."""
    return recording.load(HERE / f"{name}.json")


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))


def verdicts(observations: dict[str, Observation], checks: list[Check]) -> dict[str, str]:
    """Check id -> "passed", NV or the cause its finding names, for each of ``checks`` whose scenarios were all
    recorded in ``observations``."""
    found: dict[str, str] = {}
    for check in checks:
        spec = check.judge
        assert spec is not None, check.id
        if not set(spec.scenarios) <= set(observations):
            continue
        verdict = judge(spec, observations)
        if verdict is None or isinstance(verdict, Passed):
            found[check.id] = "passed"
        elif isinstance(verdict, Unjudged):
            found[check.id] = NV
        else:
            assert isinstance(verdict, Finding) and verdict.cause, verdict
            verdict.failure()  # a catalogued cause, a finding every output can show
            found[check.id] = verdict.cause
    return found
