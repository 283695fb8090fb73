"""Record the observations of ``tests/protocol/recorded`` from real runs of the known-bad programs over the protocol
(the embedded twin, real sockets, the programs as separate processes): ``python -m tests.protocol.recorded.record
[name ...]`` (all when none is named; needs node, go and a JDK on PATH, as the tests do). Each program is observed
on the scenarios of exactly the checks its test judges it on, in a session with the thresholds that test's live run
uses (``settle_timeout_s=1.5``), written by ``recording.write`` (``tests/checks/recorded``): trimmed to what the
judges read, and refused if any judge judges it differently from the facts as observed."""

from __future__ import annotations

import shutil
import sys

from bluum_readiness.config import Thresholds
from bluum_readiness.protocol import ProgramFactory
from tests.checks.recorded import Plans, record_chosen
from tests.protocol import starters
from tests.protocol.recorded import HERE

#: the live tests' session: a known-bad pair never adopted waits out settle_timeout_s in the drill
LIVE_THRESHOLDS = Thresholds(settle_timeout_s=1.5)


def recordings() -> Plans:
    """name -> (how to make its factory, the checks it is judged on, the live run's thresholds)."""
    from tests.protocol import test_program_integrations as programs
    from tests.protocol import test_starters

    def node() -> str:
        found = shutil.which("node")
        assert found, "node is not on PATH"
        return found

    made: Plans = {}
    for variant, (judged_on, expected, python_twin) in programs.KNOWN_BAD_JS.items():
        made[f"node-{variant}"] = (
            lambda variant=variant: programs.acme(node(), variant),
            programs.judged_checks(judged_on, expected),
            LIVE_THRESHOLDS,
        )
        made[f"python-{variant}"] = (lambda twin=python_twin: twin, tuple(sorted(expected)), LIVE_THRESHOLDS)
    for lang in test_starters.LANGS:
        for variant in test_starters.EXPECTED:
            made[f"{lang}-{variant}"] = (
                lambda lang=lang, variant=variant: ProgramFactory(starters.build(lang)[variant]),
                test_starters.checks_of(lang, variant),
                LIVE_THRESHOLDS,
            )
    return made


if __name__ == "__main__":
    record_chosen(HERE, recordings(), sys.argv[1:])
