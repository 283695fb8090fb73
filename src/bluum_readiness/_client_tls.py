"""One default TLS client context per process.

``httpx.Client()`` and ``httpx.HTTPTransport()`` with the default ``verify`` each load certifi's CA bundle into a
new ``ssl.SSLContext`` (~18 ms of CPU), even when they only ever speak plain HTTP to the local proxy and twin; a
readiness run builds a few per check. ``ssl.SSLContext`` is safe to share between clients and threads, so every
client of ours that verifies against the public CAs passes this one as ``verify=``. Clients that trust the
suite's local CA (webhooks) build their own.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["default_tls_context"]


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """httpx's default client context (certifi's CAs, hostname checks), made once per process."""
    return httpx.create_ssl_context()
