"""Observations recorded from real runs of the reference and the known-bad integrations, for the judge tests
(``tests/checks/test_webhook_judges.py``, ``test_lifecycle_judges.py``; ``test_variant_judges.py`` for the
known-bad clients of ``tests/integrations/variants.py``, in ``variants/``). Re-record with ``python -m
tests.checks.recorded.record [name ...]``; each file is one integration's observations of the scenarios named for
it in ``record.py``, trimmed to what the judges read (``recording.py``: its recorder refuses a file any judge would
judge differently from the facts as observed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Finding, Passed, Unjudged, judge
from bluum_readiness.checks.observation import SCENARIOS, Observation
from bluum_readiness.checks.registry import Check
from bluum_readiness.config import Thresholds
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.suite.session import SuiteSession
from tests.checks.recorded import recording
from tests.checks.recorded.recording import dumps

__all__ = [
    "HERE",
    "NV",
    "Folder",
    "dumps",
    "live_verdicts",
    "observe_each",
    "record_chosen",
    "load",
    "names",
    "scenarios",
    "verdicts",
]

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


def scenarios(checks: Iterable[str]) -> tuple[str, ...]:
    """The scenarios the judges of ``checks`` read, in order."""
    found: dict[str, None] = {}
    for check in checks:
        spec = registry.get(check).judge
        assert spec is not None, f"{check} has no judge: it cannot be judged over a recording"
        found.update(dict.fromkeys(spec.scenarios))
    return tuple(found)


def live_verdicts(
    session: SuiteSession,
    factory: Callable[[IntegrationEnv], Any],
    checks: Iterable[str],
    texts: dict[str, str] | None = None,
) -> dict[str, str]:
    """The verdicts a recording gives (``verdicts``), from running the checks live (``session.run``: real sockets,
    the embedded twin, over the protocol for a program); ``texts`` receives each finding's message as every output
    shows it."""
    session.factory = factory
    found: dict[str, str] = {}
    for check in checks:
        try:
            session.run(registry.get(check))
        except ConformanceFailure as exc:
            assert exc.cause, f"{check} failed without a cause: {exc}"
            found[check] = exc.cause
            if texts is not None:
                texts[check] = str(exc)
        except NotVerifiable:
            found[check] = NV
        else:
            found[check] = "passed"
    return found


class Folder:
    """A folder of recordings, one ``<name>.json`` per integration or program."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, name: str) -> dict[str, Observation]:
        """The observations recorded for ``name``, by scenario."""
        return recording.load(self.path / f"{name}.json")

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.path.glob("*.json"))

    def verdicts(self, name: str, checks: Iterable[str]) -> dict[str, str]:
        """Check id -> "passed", NV or the (catalogued) cause its finding names, for each of ``checks``, judged over
        the recording ``name``; a check whose scenarios were not all recorded is a stale recording (AssertionError)."""
        chosen = list(checks)
        found = verdicts(self.load(name), [registry.get(c) for c in chosen])
        assert set(found) == set(chosen), f"{name}.json lacks the scenarios of {set(chosen) - set(found)}: re-record it"
        return {c: found[c] for c in chosen}


def observe_each(session: SuiteSession, names: Iterable[str]) -> dict[str, Observation]:
    """Each scenario of ``names`` observed once of the session's integration, a harness each as in a run (a webhook
    registered in one is not another's); the session is closed at the end. What the recorders record."""
    observed: dict[str, Observation] = {}
    try:
        for name in names:
            with session.harness() as h:
                observed[name] = h.observe(SCENARIOS[name])
    finally:
        session.close()
    return observed


#: name -> (how to make the integration's factory, the checks it is judged on, the session's thresholds)
Plans = dict[str, tuple[Callable[[], Callable[[IntegrationEnv], Any]], tuple[str, ...], Thresholds]]


def record_chosen(folder: Path, plans: Plans, chosen: list[str]) -> None:
    """A recorder's command line: each of ``chosen`` (every plan when empty) observed on the scenarios of its checks
    in a session with its thresholds, and written to ``folder`` by ``recording.write`` (which refuses a recording any
    judge judges differently from the facts as observed)."""
    import sys

    unknown = [name for name in chosen if name not in plans]
    if unknown:
        sys.exit(f"no recording named {', '.join(unknown)}; known: {', '.join(sorted(plans))}")
    for name in chosen or sorted(plans):
        make, checks, thresholds = plans[name]
        session = SuiteSession.embedded("bluum_readiness.reference:create_fast", thresholds=thresholds)
        session.factory = make()
        print(recording.write(folder / f"{name}.json", observe_each(session, scenarios(checks))))
