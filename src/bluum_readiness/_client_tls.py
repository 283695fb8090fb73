"""One default TLS client context per process.

``httpx.Client()`` and ``httpx.HTTPTransport()`` with the default ``verify`` each load certifi's CA bundle into a
new ``ssl.SSLContext`` (~18 ms of CPU), even when they only ever speak plain HTTP to the local proxy and twin; a
readiness run builds a few per check. ``ssl.SSLContext`` is safe to share between clients and threads, so every
client of ours that verifies against the public CAs passes this one as ``verify=``. Clients that trust a CA file
(the suite's local CA, a receiver's ``ca_file``) share ``ca_file_context``'s, one per file as it is on disk.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

__all__ = ["ca_file_context", "default_tls_context"]


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """httpx's default client context (certifi's CAs, hostname checks), made once per process."""
    return httpx.create_ssl_context()


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
