"""Observations recorded from real runs of the cut-over integrations (``tests/integrations/cutover_variants.py``:
the reference, the correct-but-different ones and every known-bad one), for the tests that judge the
``credential-rotation`` and ``observability`` checks as data (``tests/checks/test_rotation_observability_checks.py``).
One file per integration, ``<name>.json``: the facts and missing facts of the scenarios its checks read, trimmed to
what the judges read (``tests/checks/recorded/recording.py``: no evidence, no headers, no httpcore DEBUG trace;
``record.py`` refuses a recording any judge would judge differently from the facts as observed).

Re-record after a scenario changes its facts (the tests say which recording is stale) with::

    python -m tests.checks.recorded.cutover.record [name ...]

(all when none is named; about 30 s: the alert defects wait out the alert timeout). Still run live over real
sockets: the reference through every check (``tests/reference/test_readiness.py``),
a known-bad integration of each item by a test that requires its live verdicts to equal the recorded ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Unjudged, judge
from bluum_readiness.checks.observation import Observation
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.suite.session import SuiteSession
from tests.checks import recorded
from tests.checks.recorded import recording

HERE = Path(__file__).parent
NV = recorded.NV
ITEMS = ("credential-rotation", "observability")
#: every check of both items, in the registry's order
CHECKS = tuple(c.id for item in ITEMS for c in registry.for_item(item))


def load(name: str) -> dict[str, Observation]:
    """The observations recorded for the integration ``name`` (``<name>.json``), by scenario."""
    return recording.load(HERE / f"{name}.json")


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))


def scenarios(checks: Iterable[str]) -> tuple[str, ...]:
    """The scenarios the judges of ``checks`` read, in order."""
    found: dict[str, None] = {}
    for check in checks:
        spec = registry.get(check).judge
        assert spec is not None, f"{check} has no judge: it cannot be judged over a recording"
        found.update(dict.fromkeys(spec.scenarios))
    return tuple(found)


def verdicts(name: str, checks: Iterable[str]) -> dict[str, str]:
    """Check id -> "passed", NV or the (catalogued) cause its finding names, for each of ``checks``, judged over
    the recording ``name``; a check whose scenarios were not all recorded is a stale recording (AssertionError)."""
    chosen = list(checks)
    found = recorded.verdicts(load(name), [registry.get(c) for c in chosen])
    assert set(found) == set(chosen), f"{name}.json lacks the scenarios of {set(chosen) - set(found)}: re-record it"
    return {c: found[c] for c in chosen}


def unverifiable(name: str, check: str) -> str:
    """Why ``check`` is not verifiable over the recording ``name`` (AssertionError when it is)."""
    spec = registry.get(check).judge
    assert spec is not None, check
    verdict = judge(spec, load(name))
    assert isinstance(verdict, Unjudged), (name, check, verdict)
    return verdict.reason


def live_verdicts(
    session: SuiteSession, factory: Callable[[IntegrationEnv], Any], checks: Iterable[str]
) -> dict[str, str]:
    """The same verdicts from running the checks live (``session.run``: real sockets, the embedded twin)."""
    session.factory = factory
    found: dict[str, str] = {}
    for check in checks:
        try:
            session.run(registry.get(check))
        except ConformanceFailure as exc:
            assert exc.cause, f"{check} failed without a cause: {exc}"
            found[check] = exc.cause
        except NotVerifiable:
            found[check] = NV
        else:
            found[check] = "passed"
    return found
