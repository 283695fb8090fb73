"""Proxy fixtures: a real ProxyServer in front of a real twin, both on loopback ports. The clients share the
process's TLS context (``default_tls_context``): httpx builds one per client otherwise, ~20 ms of CPU each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bluum_readiness._client_tls import default_tls_context
from bluum_readiness.proxy import FAULTS, ProxyServer
from bluum_readiness.twin import TwinServer

CLIENT_TIMEOUT = 0.3  # the client's timeout in real-socket tests; hold faults last longer (0.6-1 s)


@pytest.fixture(autouse=True)
def _fault_registry() -> Iterator[None]:
    """Tests may register throw-away fault kinds; put the registry back afterwards."""
    snapshot = FAULTS.copy()
    yield
    FAULTS.restore(snapshot)


@pytest.fixture
def proxy_factory(twin_server: TwinServer) -> Iterator[Callable[..., ProxyServer]]:
    started: list[ProxyServer] = []

    def make(**kwargs: Any) -> ProxyServer:
        proxy = ProxyServer(kwargs.pop("upstream", twin_server.base_url), **kwargs).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


@pytest.fixture
def proxy(proxy_factory: Callable[..., ProxyServer]) -> ProxyServer:
    return proxy_factory()


@pytest.fixture
def via_proxy(proxy: ProxyServer, twin_server: TwinServer) -> Iterator[httpx.Client]:
    """A client of the twin through the proxy, with a short timeout."""
    with httpx.Client(
        base_url=proxy.base_url, auth=twin_server.auth, timeout=CLIENT_TIMEOUT, verify=default_tls_context()
    ) as c:
        yield c


@pytest.fixture
def direct(twin_server: TwinServer) -> Iterator[httpx.Client]:
    """A client of the twin without the proxy (to look at what the upstream did)."""
    with httpx.Client(
        base_url=twin_server.base_url, auth=twin_server.auth, timeout=10, verify=default_tls_context()
    ) as c:
        yield c
