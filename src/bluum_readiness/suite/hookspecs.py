"""Hooks the readiness suite publishes (added with ``pytest_addhooks``), so teams can add sinks without forking."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bluum_readiness.suite.results import CheckResult, RunReport


@pytest.hookspec
def pytest_readiness_check(config: pytest.Config, result: CheckResult) -> None:
    """A check (one suite test) finished; called in the process that runs the session (the xdist controller).

    :param config: the pytest config.
    :param result: its outcome; under xdist its ``evidence`` arrives later, in the report.
    """


@pytest.hookspec
def pytest_readiness_report(config: pytest.Config, report: RunReport) -> None:
    """The run's report is complete (every worker's results merged); called once, before readiness.json is written.

    :param config: the pytest config.
    :param report: items, statuses, the verdict and the run's metadata.
    """
