"""The twin on a real socket: ``TwinServer`` (background thread, for tests and the suite).

With ``BLUUM_READINESS_TWIN_STATS`` set to a file path, ``stop()`` appends one JSON line with the responses the
twin sent (``RequestCounts.snapshot()``): how benchmarks/full_run.py counts the API requests of a readiness run,
whose every xdist worker has its own twin.
"""

from __future__ import annotations

import json
import os
from types import TracebackType

from bluum_readiness._serving import BackgroundServer
from bluum_readiness.clock import Clock
from bluum_readiness.twin.app import create_app
from bluum_readiness.twin.engine import KeyPair, Twin
from bluum_readiness.twin.settings import TwinSettings

__all__ = ["STATS_ENV_VAR", "TwinServer"]

STATS_ENV_VAR = "BLUUM_READINESS_TWIN_STATS"


class TwinServer:
    """A twin listening on 127.0.0.1 (port 0 by default) with one tenant.

    ``base_url`` ends in ``/v1``; ``pair`` is the tenant key pair (seeded by ``key``/``secret`` when given).
    """

    def __init__(
        self,
        settings: TwinSettings | None = None,
        *,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        key: str | None = None,
        secret: str | None = None,
    ) -> None:
        self.twin = Twin(settings, clock=clock)
        created = self.twin.ensure_tenant(key=key, secret=secret)
        if created is None:
            tenant = self.twin.default_tenant()
            assert tenant is not None
            if key and secret:
                created = KeyPair(key=key, secret=secret, tenant_id=tenant, created=self.twin.clock.now())
            else:
                created = self.twin.create_tenant_key(tenant, name="session")
        self.pair: KeyPair = created
        self.app = create_app(twin=self.twin)
        self._server = BackgroundServer(self.app, host=host, port=port, name="bluum-twin")
        self.origin = self._server.url
        self.base_url = f"{self.origin}/v1"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.pair.key, self.pair.secret)

    def start(self) -> TwinServer:
        self._server.start()
        return self

    def request_counts(self) -> dict[str, int]:
        """Responses sent so far, by area and status (see ``RequestCounts.snapshot``)."""
        return dict(self.app.state.request_counts.snapshot())

    def stop(self) -> None:
        self._server.stop()
        self.twin.close()
        stats_file = os.environ.get(STATS_ENV_VAR)
        if stats_file:
            line = json.dumps({"pid": os.getpid(), "responses": self.request_counts()}) + "\n"
            with open(stats_file, "a", encoding="utf-8") as handle:  # one short append per twin: workers don't mix
                handle.write(line)

    def __enter__(self) -> TwinServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
