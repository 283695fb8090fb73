"""``_client_tls``: one context per process for the public CAs and per CA file, and none at all for the clients that
only speak plain HTTP — which, sent to an ``https`` URL by mistake, refuse every certificate (real TLS, a local CA)."""

from __future__ import annotations

import ssl
import traceback
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from bluum_readiness._client_tls import ca_file_context, default_tls_context, tls_context_for
from bluum_readiness.checks import registry
from bluum_readiness.suite.session import SuiteSession
from bluum_readiness.webhooks.tls import serve_deliveries, shared_local_tls


async def _ok(request: Request) -> Response:
    return Response("ok")


def test_a_plain_http_client_loads_no_ca_and_an_https_one_the_public_cas() -> None:
    plain = tls_context_for("http://127.0.0.1:8787/v1")
    assert plain is tls_context_for(httpx.URL("http://localhost/"))  # one per process
    assert plain.cert_store_stats()["x509_ca"] == 0
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    public = tls_context_for("https://sandbox.api.bluumfinance.com/v1")
    assert public is default_tls_context() and public.cert_store_stats()["x509_ca"] > 0


def test_sent_to_https_the_plain_context_refuses_the_certificate_a_ca_file_context_accepts() -> None:
    server = serve_deliveries(_ok)
    try:
        url = server.url + "/"
        assert url.startswith("https://")
        with httpx.Client(verify=tls_context_for("http://127.0.0.1/"), timeout=5) as plain:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                plain.post(url)
        with httpx.Client(verify=ca_file_context(shared_local_tls().ca_file), timeout=5) as trusting:
            assert trusting.post(url).text == "ok"
    finally:
        server.stop()


def test_a_run_against_the_embedded_twin_never_loads_the_public_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its clients all speak plain HTTP (the proxy, the twin, the listeners); the twin trusts the local CA. (A twin's
    dispatcher may load them for a receiver of another test of this process, on its own thread: not counted.)"""
    loaded: list[str] = []
    real = httpx.create_ssl_context

    def create_ssl_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        if not any(frame.filename.endswith("twin/dispatcher.py") for frame in traceback.extract_stack()):
            loaded.append("the public CAs")
        return real(*args, **kwargs)

    default_tls_context.cache_clear()
    monkeypatch.setattr(httpx, "create_ssl_context", create_ssl_context)
    try:
        session = SuiteSession.embedded("bluum_readiness.reference:create_fast")
        try:
            session.run(registry.get("lifecycle.full-journey"))
            session.run(registry.get("webhooks.end-to-end"))
        finally:
            session.close()
    finally:
        default_tls_context.cache_clear()
    assert loaded == []
