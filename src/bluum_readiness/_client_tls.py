"""One default TLS client context per process.

``httpx.Client()`` and ``httpx.HTTPTransport()`` with the default ``verify`` each load certifi's CA bundle into a
new ``ssl.SSLContext`` (~18 ms of CPU), even when they only ever speak plain HTTP to the local proxy and twin; a
readiness run builds a few per check. ``ssl.SSLContext`` is safe to share between clients and threads, so every
client of ours that verifies against the public CAs passes this one as ``verify=``. Clients that trust a CA file
(the suite's local CA, a receiver's ``ca_file``) share ``ca_file_context``'s, one per file as it is on disk.

Most clients of a run only ever speak plain HTTP (to the local proxy, twin and listeners): ``tls_context_for(url)``
gives those a context that loads no CA bundle at all, so a run against the embedded twin never pays for one.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

__all__ = ["ca_file_context", "default_tls_context", "tls_context_for"]


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """httpx's default client context (certifi's CAs, hostname checks), made once per process."""
    return httpx.create_ssl_context()


def tls_context_for(url: str | httpx.URL) -> ssl.SSLContext:
    """The context for a client of ``url`` (its base URL, or the one URL it calls): ``default_tls_context()`` for
    ``https``; for plain ``http`` one with no CA loaded. That one still requires a verified certificate and a
    matching host name, and trusts no CA, so should such a client ever be sent to an ``https`` URL its handshake
    fails (``CERTIFICATE_VERIFY_FAILED``): it never trusts anything it should not."""
    if httpx.URL(url).scheme == "http":
        return _plain_http_context()
    return default_tls_context()


@functools.cache
def _plain_http_context() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname, and no CA: refuses any peer


def ca_file_context(ca_file: str) -> ssl.SSLContext:
    """A client context trusting ``ca_file``'s CAs, made once per process and file as it is on disk (a file
    written again gets a new one). A file that cannot be read raises the ``OSError``/``ssl.SSLError`` naming it."""
    try:
        found = os.stat(ca_file)
    except OSError:
        return ssl.create_default_context(cafile=ca_file)  # raises the error that names the file
    return _ca_file_context(ca_file, found.st_mtime_ns, found.st_size)


@functools.lru_cache(maxsize=8)
def _ca_file_context(ca_file: str, mtime_ns: int, size: int) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)
