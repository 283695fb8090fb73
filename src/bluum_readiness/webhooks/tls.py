"""A local certificate authority for receivers served in twin mode (made with ``trustme``).

``LocalCA().issue()`` writes a CA certificate and a server certificate + key valid for 127.0.0.1 and localhost
to a private temporary directory and returns them as ``LocalTLS``; the suite's sender trusts ``ca_file``.
``shared_local_tls()`` makes one per process, lazily (the harness hands it to every integration).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluum_readiness.errors import HarnessError
from bluum_readiness.integration import LocalTLS

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from bluum_readiness._serving import BackgroundServer

__all__ = ["DEFAULT_NAMES", "LocalCA", "LocalTLS", "serve_deliveries", "shared_local_tls"]

DEFAULT_NAMES: tuple[str, ...] = ("127.0.0.1", "localhost")


def _trustme() -> Any:
    try:
        import trustme
    except ImportError:  # pragma: no cover - trustme ships with the test extra
        raise HarnessError(
            "twin-mode webhook checks need the 'trustme' package for a local CA; pip install trustme"
        ) from None
    return trustme


class LocalCA:
    """A throw-away CA; its files live in ``directory`` (a fresh private temp dir unless given)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._own = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="bluum-readiness-tls-"))
        self._ca = _trustme().CA(organization_name="bluum-readiness local CA")
        self.ca_file = str(self.directory / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_file)

    def issue(self, *names: str, stem: str = "receiver") -> LocalTLS:
        """A server certificate for ``names`` (default 127.0.0.1 and localhost) signed by this CA."""
        cert = self._ca.issue_cert(*(names or DEFAULT_NAMES))
        cert_file, key_file = self.directory / f"{stem}.pem", self.directory / f"{stem}.key"
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(cert_file), append=True)
        cert.private_key_pem.write_to_path(str(key_file))
        key_file.chmod(0o600)
        return LocalTLS(cert_file=str(cert_file), key_file=str(key_file), ca_file=self.ca_file)

    def cleanup(self) -> None:
        if self._own:
            shutil.rmtree(self.directory, ignore_errors=True)


_shared: LocalTLS | None = None
_shared_lock = threading.Lock()


def shared_local_tls() -> LocalTLS:
    """The process-wide local CA's certificate for 127.0.0.1/localhost, made on first use, removed at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            ca = LocalCA()
            atexit.register(ca.cleanup)
            _shared = ca.issue()
        return _shared


def serve_deliveries(handler: Callable[[Request], Awaitable[Response]]) -> BackgroundServer:
    """A started HTTPS endpoint of the suite's own (``bluum-suite``), with the shared local certificate (the twin
    trusts its CA), that answers every ``POST /`` with ``handler``: where a check has the twin deliver webhooks to
    something of the suite's rather than to the integration's receiver."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    from bluum_readiness._serving import BackgroundServer

    tls = shared_local_tls()
    app = Starlette(routes=[Route("/", handler, methods=["POST"])])
    return BackgroundServer(app, ssl_certfile=tls.cert_file, ssl_keyfile=tls.key_file, name="bluum-suite").start()
