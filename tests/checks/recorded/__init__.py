"""Observations recorded from real runs of the reference and the known-bad integrations, for the judge tests
(``tests/checks/test_webhook_judges.py``, ``test_lifecycle_judges.py``; ``test_variant_judges.py`` for the
known-bad clients of ``tests/integrations/variants.py``, in ``variants/``). Re-record with ``python -m
tests.checks.recorded.record [name ...]``; each file is one integration's observations of the scenarios named for
it in ``record.py``, without their evidence (the judges never read it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bluum_readiness.checks.judge import Finding, Passed, Unjudged, judge
from bluum_readiness.checks.observation import Observation
from bluum_readiness.checks.registry import Check

HERE = Path(__file__).parent
NV = "not verifiable"


def load(name: str) -> dict[str, Observation]:
    """The observations recorded for the integration ``name`` (``<name>.json``), by scenario."""
    data = json.loads((HERE / f"{name}.json").read_text())
    return {scenario: Observation.from_dict({"scenario": scenario, **o}) for scenario, o in data.items()}


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))


def dumps(value: Any, indent: int = 0) -> str:
    """JSON that reads: a container on one line when it fits (an attempt, a delivery), else one item a line."""
    pad, inner = " " * indent, " " * (indent + 1)
    flat = json.dumps(value)
    if len(flat) + indent <= 110:
        return flat
    if isinstance(value, dict) and any(isinstance(v, dict | list) and v for v in value.values()):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) and v for v in value):
        return "[\n" + ",\n".join(f"{inner}{dumps(v, indent + 1)}" for v in value) + f"\n{pad}]"
    return json.dumps(value)


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
