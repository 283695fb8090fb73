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

from pathlib import Path

from bluum_readiness.checks import registry
from bluum_readiness.checks.judge import Unjudged, judge
from tests.checks import recorded

HERE = Path(__file__).parent
NV = recorded.NV
ITEMS = ("credential-rotation", "observability")
#: every check of both items, in the registry's order
CHECKS = tuple(c.id for item in ITEMS for c in registry.for_item(item))
FOLDER = recorded.Folder(HERE)
load, names, verdicts = FOLDER.load, FOLDER.names, FOLDER.verdicts
scenarios, live_verdicts = recorded.scenarios, recorded.live_verdicts


def unverifiable(name: str, check: str) -> str:
    """Why ``check`` is not verifiable over the recording ``name`` (AssertionError when it is)."""
    spec = registry.get(check).judge
    assert spec is not None, check
    verdict = judge(spec, load(name))
    assert isinstance(verdict, Unjudged), (name, check, verdict)
    return verdict.reason
