"""A suite session: the target (an embedded twin by default), the fault proxy in front of it, and the team's
integration factory. One per pytest session (per xdist worker)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bluum_readiness.checks.registry import Check
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import CredentialStore, Harness, HarnessSettings, Target
from bluum_readiness.integration import Credentials, IntegrationEnv, load_factory
from bluum_readiness.proxy.server import ProxyServer
from bluum_readiness.twin import TwinServer, TwinSettings

__all__ = ["DEFAULT_INTEGRATION", "SuiteSession"]

DEFAULT_INTEGRATION = "bluum_readiness.reference:create_fast"


@dataclass
class SuiteSession:
    """Owns the long-lived parts; ``harness()`` makes a fresh per-check world on top of them."""

    factory: Callable[[IntegrationEnv], Any]
    settings: HarnessSettings = field(default_factory=HarnessSettings)
    twin: TwinServer | None = None
    proxy: ProxyServer | None = None
    credentials: CredentialStore | None = None

    @classmethod
    def embedded(cls, integration: str = DEFAULT_INTEGRATION, settings: HarnessSettings | None = None,
                 twin_settings: TwinSettings | None = None) -> SuiteSession:  # fmt: skip
        """A session against a fresh embedded twin (fast settings) on a free loopback port."""
        session = cls(factory=load_factory(integration), settings=settings or HarnessSettings())
        session.twin = TwinServer(twin_settings or TwinSettings.fast()).start()
        session.credentials = CredentialStore(Credentials(session.twin.pair.key, session.twin.pair.secret))
        session.proxy = ProxyServer(session.twin.base_url).start()
        return session

    @property
    def target(self) -> Target:
        assert self.twin is not None
        return Target(origin=self.twin.origin, twin=True)

    def harness(self) -> Harness:
        assert self.proxy is not None and self.credentials is not None
        self.proxy.clear_faults()
        return Harness(
            target=self.target,
            proxy=self.proxy,
            factory=self.factory,
            credentials=self.credentials,
            settings=self.settings,
        )

    def run(self, check: Check) -> None:
        """Run one check in a fresh harness (NotVerifiable, ConformanceFailure and HarnessError propagate)."""
        if check.twin_only and not self.target.twin:
            raise NotVerifiable(f"{check.id} needs the twin's sandbox controls; it runs in twin mode only")
        with self.harness() as h:
            check.run(h)

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.twin is not None:
            self.twin.stop()
