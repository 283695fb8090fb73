"""Record the observations of ``tests/protocol/recorded`` from real runs of the known-bad programs over the protocol
(the embedded twin, real sockets, the programs as separate processes): ``python -m tests.protocol.recorded.record
[name ...]`` (all when none is named; needs node, go and a JDK on PATH, as the tests do). Each program is observed
on the scenarios of exactly the checks its test judges it on, in a session with the thresholds that test's live run
uses (``settle_timeout_s=1.5``), written by ``recording.write`` (``tests/checks/recorded``): trimmed to what the
judges read, and refused if any judge judges it differently from the facts as observed."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from typing import Any

from bluum_readiness.config import Thresholds
from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.protocol import ProgramFactory
from bluum_readiness.suite.session import SuiteSession
from tests.checks.recorded import observe_each, recording
from tests.protocol import starters
from tests.protocol.recorded import HERE, scenarios

Factory = Callable[[IntegrationEnv], Any]


def recordings() -> dict[str, tuple[Callable[[], Factory], tuple[str, ...]]]:
    """name -> (how to make its factory, the checks it is judged on)."""
    from tests.protocol import test_program_integrations as programs
    from tests.protocol import test_starters

    def node() -> str:
        found = shutil.which("node")
        assert found, "node is not on PATH"
        return found

    made: dict[str, tuple[Callable[[], Factory], tuple[str, ...]]] = {}
    for variant, (judged_on, expected, python_twin) in programs.KNOWN_BAD_JS.items():
        made[f"node-{variant}"] = (
            lambda variant=variant: programs.acme(node(), variant),
            programs.judged_checks(judged_on, expected),
        )
        made[f"python-{variant}"] = (lambda twin=python_twin: twin, tuple(sorted(expected)))
    for lang in test_starters.LANGS:
        for variant in test_starters.EXPECTED:
            made[f"{lang}-{variant}"] = (
                lambda lang=lang, variant=variant: ProgramFactory(starters.build(lang)[variant]),
                test_starters.checks_of(lang, variant),
            )
    return made


def record(name: str, factory: Factory, checks: tuple[str, ...]) -> None:
    session = SuiteSession.embedded(
        "bluum_readiness.reference:create_fast", thresholds=Thresholds(settle_timeout_s=1.5)
    )
    session.factory = factory
    print(recording.write(HERE / f"{name}.json", observe_each(session, scenarios(checks))))


def main(chosen: list[str]) -> None:
    known = recordings()
    unknown = [name for name in chosen if name not in known]
    if unknown:
        sys.exit(f"no recording named {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for name in chosen or sorted(known):
        make, checks = known[name]
        record(name, make(), checks)


if __name__ == "__main__":
    main(sys.argv[1:])
