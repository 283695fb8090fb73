"""pytest plugin of the readiness suite: the ``--integration`` option, the ``checklist`` marker and fixtures.

Each suite test is tagged ``@pytest.mark.checklist("<item id>")``; an unknown id is a collection error.
A check that raises ``NotVerifiable`` is reported as skipped with a reason starting "not verifiable:".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bluum_readiness.catalog import item as checklist_item
from bluum_readiness.checks.registry import Check
from bluum_readiness.errors import ConfigError
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.suite.session import DEFAULT_INTEGRATION, SuiteSession

MARKER = "checklist"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bluum-readiness", "Bluum readiness suite")
    group.addoption(
        "--integration",
        default=DEFAULT_INTEGRATION,
        help="the adapter factory under test, MODULE:FACTORY (default: the reference integration)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(item): ties a test to a Bluum readiness checklist item")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for test in items:
        for marker in test.iter_markers(MARKER):
            if len(marker.args) != 1:
                raise pytest.UsageError(f"{test.nodeid}: @pytest.mark.checklist takes exactly one item id")
            try:
                checklist_item(marker.args[0])
            except ConfigError as exc:
                raise pytest.UsageError(f"{test.nodeid}: {exc}") from None


@pytest.fixture(scope="session")
def suite_session(request: pytest.FixtureRequest) -> Iterator[SuiteSession]:
    """The target, proxy and integration factory for this run (an embedded twin by default)."""
    session = SuiteSession.embedded(request.config.getoption("--integration"))
    yield session
    session.close()


@pytest.fixture
def run_check(suite_session: SuiteSession) -> Iterator[object]:
    """Run a registered check; NotVerifiable becomes a skip whose reason starts with "not verifiable:"."""

    def run(check: Check) -> None:
        try:
            suite_session.run(check)
        except NotVerifiable as exc:
            pytest.skip(f"not verifiable: {exc.reason}")

    yield run
