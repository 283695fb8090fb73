"""Fixtures of the reliability tests: a fast twin on a real loopback socket and a client for it (on the process's
TLS context, ``default_tls_context``: httpx builds one per client otherwise, ~20 ms of CPU each)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.twin import TwinServer, TwinSettings


@pytest.fixture(scope="module")
def live_twin() -> Iterator[TwinServer]:
    """One fast twin per module on 127.0.0.1:<free port>; a rate limit high enough never to be the subject."""
    with TwinServer(TwinSettings.fast(rate_limit_per_s=100_000.0, seed=8)) as server:
        yield server


@pytest.fixture
def live_client(live_twin: TwinServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_twin.base_url, auth=live_twin.auth, timeout=10, verify=default_tls_context()) as c:
        yield c
