"""Where the suite folders are: the checkout (an editable install) or ``bluum_readiness/_suite`` in a wheel."""

from __future__ import annotations

import os
from importlib import metadata, resources
from pathlib import Path

from bluum_readiness.errors import HarnessError

__all__ = ["SUITE_FOLDERS", "plugin_args", "suite_ini", "suite_root"]

SUITE_FOLDERS = ("lifecycle", "errors", "webhooks", "checklist")
"""In the order a run goes through them: the checklist's order, roughly, and ``checklist/`` (credentials, cut-over)
last, so the secret scan the session starts in the background overlaps the first items' network waits instead of
being waited for by the first check."""
PLUGIN = "bluum_readiness.suite.plugin"


def suite_root() -> Path:
    """The folder holding checklist/, lifecycle/, errors/ and webhooks/."""
    packaged = Path(str(resources.files("bluum_readiness").joinpath("_suite")))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3]  # src/bluum_readiness/suite/paths.py -> the repository
    if all((checkout / name).is_dir() for name in SUITE_FOLDERS):
        return checkout
    raise HarnessError(
        f"the readiness suite folders ({', '.join(SUITE_FOLDERS)}) are neither in {packaged} nor in {checkout}; "
        "reinstall bluum-readiness (pip install --force-reinstall bluum-readiness)"
    )


def suite_ini() -> Path:
    """The pytest settings ``bluum-readiness run`` uses (independent of any pytest config where it runs)."""
    return Path(str(resources.files(__package__).joinpath("suite.ini")))


def plugin_args() -> list[str]:
    """``["-p", PLUGIN]`` unless pytest will load the plugin from its ``pytest11`` entry point anyway
    (loading it twice is an error)."""
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        for entry in metadata.entry_points(group="pytest11"):
            if entry.value == PLUGIN:
                return []
    return ["-p", PLUGIN]
