"""Fixtures for the project's own tests."""

# httpx imports httpcore on first use and keeps httpcore's exception classes (to map them to its own) from then on.
# pytester's in-process runs (tests/suite/test_plugin.py, tests/checks/test_rotation_drill.py) remove the modules
# first imported during the run from sys.modules when it ends: if that first use happened inside one, httpcore is
# imported again later, its exceptions are new classes, and httpx lets them through unmapped (an integration's
# `except httpx.TimeoutException` then misses a timeout). Importing it here, before any test runs, keeps one httpcore.
import httpcore  # noqa: F401

pytest_plugins = ["tests.fixtures.twin"]


def pytest_collection_finish(session: object) -> None:
    """The imported modules and the collected tests live for the whole run: moved out of the collector's sight
    (``gc.freeze``), every collection of the oldest generation stops walking them again."""
    import gc

    gc.freeze()
