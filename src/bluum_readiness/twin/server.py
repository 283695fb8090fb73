"""The twin on a real socket: ``TwinServer`` (background thread, for tests and the suite)."""

from __future__ import annotations

from types import TracebackType

from bluum_readiness._serving import BackgroundServer
from bluum_readiness.clock import Clock
from bluum_readiness.twin.app import create_app
from bluum_readiness.twin.engine import KeyPair, Twin
from bluum_readiness.twin.settings import TwinSettings

__all__ = ["TwinServer"]


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
        self._server = BackgroundServer(self.app, host=host, port=port)
        self.origin = self._server.url
        self.base_url = f"{self.origin}/v1"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.pair.key, self.pair.secret)

    def start(self) -> TwinServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self.twin.close()

    def __enter__(self) -> TwinServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
