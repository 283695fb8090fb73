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

from pathlib import Path

from tests.checks import recorded as checks_recorded

HERE = Path(__file__).parent
NV = checks_recorded.NV
FOLDER = checks_recorded.Folder(HERE)
load, names, verdicts = FOLDER.load, FOLDER.names, FOLDER.verdicts
scenarios, live_verdicts = checks_recorded.scenarios, checks_recorded.live_verdicts
