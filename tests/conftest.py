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
    (``gc.freeze``), every collection of the oldest generation stops walking them again. Then the youngest
    generation is collected every 20,000 net allocations instead of 700 (and the older ones as rarely): each test
    frees most of what it made when it ends, so collecting while it runs mostly walks live objects. Measured with
    a ``gc.callbacks`` timer over ``pytest tests -n 2``: ~8.4 s of the workers' CPU went to collections, ~4.3 s
    with these thresholds (docs/performance.md); each worker's peak memory stays near 300 MB."""
    import gc

    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
