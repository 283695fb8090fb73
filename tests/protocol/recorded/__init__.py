"""Observations recorded from real runs of the known-bad programs of ``tests/protocol`` — the Node integration's
variants (``acme_adapter.mjs --variant=...``), the Python adapters with the same defects, and the Go and Java
starters' known-bad examples — for the tests that judge them as data (``test_program_integrations.py``,
``test_starters.py``). One file per program, ``<language>-<variant>.json``: the facts and missing facts of each
scenario its judged checks read, trimmed to what the judges read (``tests/checks/recorded/recording.py``: no
evidence, no headers; ``record.py`` refuses a recording any judge would judge differently from the facts as
observed).

Re-record after a scenario changes its facts (the tests say which recording is stale) with::

    python -m tests.protocol.recorded.record [name ...]

(all when none is named; Node, Go and a JDK on PATH; about a minute). Each program is still run live over the
protocol by at least one test per language, which also requires the live verdicts to equal the recorded ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bluum_readiness.checks import registry
from bluum_readiness.checks.observation import Observation
from bluum_readiness.failures import ConformanceFailure, NotVerifiable
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.suite.session import SuiteSession
from tests.checks import recorded as checks_recorded
from tests.checks.recorded import recording

HERE = Path(__file__).parent
NV = checks_recorded.NV


def load(name: str) -> dict[str, Observation]:
    """The observations recorded for the program ``name`` (``<name>.json``), by scenario."""
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
    """Check id -> "passed", NV or the cause its finding names, for each of ``checks``, judged over the recording
    ``name``; a check whose scenarios were not all recorded is a stale recording (AssertionError)."""
    chosen = list(checks)
    found = checks_recorded.verdicts(load(name), [registry.get(c) for c in chosen])
    assert set(found) == set(chosen), f"{name}.json lacks the scenarios of {set(chosen) - set(found)}: re-record it"
    return {c: found[c] for c in chosen}


def live_verdicts(
    session: SuiteSession,
    factory: Callable[[IntegrationEnv], Any],
    checks: Iterable[str],
    texts: dict[str, str] | None = None,
) -> dict[str, str]:
    """The same verdicts from running the checks live (``session.run``, over the protocol for a program); ``texts``
    receives each finding's message as every output shows it."""
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
