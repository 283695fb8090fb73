"""The fault proxy's way out through a network's HTTP proxy: ``HTTPS_PROXY`` for an https upstream.

A CI runner whose only way to the internet is a proxy (``HTTPS_PROXY=http://proxy.corp:3128``) reaches Bluum's
sandbox through it: the preflight's and the smoke test's httpx clients honour the variable, and so must the fault
proxy's own upstream client, or every request an integration makes fails ("the target did not answer") while the
preflight passed. ``egress_proxy_for`` reads the environment as urllib and httpx do (lower case first,
``NO_PROXY`` honoured: the run puts loopback there, ``_loopback``); ``tunnel`` asks that proxy for a ``CONNECT``
tunnel to the upstream and starts TLS inside it, so the upstream's certificate is verified end to end and the
proxy sees only the host and port. An http upstream (a sandbox on the network, not the internet) is reached
directly.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import urllib.request
from collections.abc import Callable

import httpx

from bluum_readiness.errors import ConfigError

__all__ = ["egress_proxy_for", "tunnel"]

_MAX_HEAD = 64 * 1024  # the longest answer to CONNECT read


def egress_proxy_for(origin: httpx.URL) -> httpx.URL | None:
    """The HTTP proxy the environment names for an https ``origin`` (``HTTPS_PROXY``, else ``ALL_PROXY``), or None
    when none is named, ``NO_PROXY`` covers the host, or the origin is plain http. A proxy the tunnel cannot use
    (``socks5://``, ``https://``) is a ConfigError that names the variable's scheme, never its credentials."""
    if origin.scheme != "https":
        return None
    proxies = urllib.request.getproxies_environment()
    named = proxies.get("https") or proxies.get("all")
    if not named or _bypassed(origin.host, proxies):
        return None
    if "://" not in named:
        named = f"http://{named}"  # HTTPS_PROXY=proxy.corp:3128, as curl reads it
    via = httpx.URL(named)
    if via.scheme != "http" or not via.host:
        raise ConfigError(
            f"HTTPS_PROXY names a {via.scheme or 'schemeless'}:// proxy; the fault proxy reaches {origin.host} through "
            "an http:// proxy only (CONNECT): set HTTPS_PROXY=http://host:port, or add the host to NO_PROXY"
        )
    return via


class _ConnectAnswer(asyncio.Protocol):
    """The proxy's answer to ``CONNECT``: its head, into ``head`` (a future), once ``\\r\\n\\r\\n`` arrived."""

    def __init__(self) -> None:
        self.head: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._buffer = b""

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if b"\r\n\r\n" in self._buffer and not self.head.done():
            self.head.set_result(self._buffer.split(b"\r\n\r\n", 1)[0])
        elif len(self._buffer) > _MAX_HEAD and not self.head.done():
            self.head.set_exception(httpx.ProxyError("the egress proxy's answer to CONNECT has no end"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.head.done():
            self.head.set_exception(httpx.ProxyError("the egress proxy closed the connection before answering CONNECT"))


async def tunnel(
    via: httpx.URL, host: str, port: int, tls: ssl.SSLContext, protocol: asyncio.Protocol
) -> asyncio.Transport:
    """A TLS connection to ``host:port`` through ``via``'s ``CONNECT`` tunnel, handed to ``protocol``. Errors are
    httpx's: ``ProxyError`` for a proxy that refuses the tunnel (with its status line), ``ConnectError`` otherwise."""
    loop = asyncio.get_running_loop()
    proxy_port = via.port or 80
    where = f"the egress proxy {via.host}:{proxy_port}"
    try:
        plain, answer = await loop.create_connection(_ConnectAnswer, via.host, proxy_port)
    except OSError as exc:
        raise httpx.ConnectError(f"{where}: {exc.strerror or exc}") from None
    authority = f"{host}:{port}".encode("ascii")
    plain.write(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (authority, authority, _authorization(via)))
    try:
        head = await answer.head
    except httpx.ProxyError as exc:
        plain.abort()
        raise httpx.ProxyError(f"{where}, CONNECT {host}:{port}: {exc}") from None
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or parts[1] != "200":
        plain.abort()
        raise httpx.ProxyError(f"{where} refused CONNECT {host}:{port}: {status_line[:200]!r}")
    try:
        secured = await loop.start_tls(plain, answer, tls, server_hostname=host)
    except OSError as exc:  # ssl.SSLError among them: a certificate the context does not trust
        plain.abort()
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
    if secured is None:  # the tunnel closed during the handshake
        raise httpx.ConnectError(f"the tunnel to {host}:{port} through {via.host}:{proxy_port} closed")
    secured.set_protocol(protocol)
    protocol.connection_made(secured)
    return secured


def _bypassed(host: str, proxies: dict[str, str]) -> bool:
    """``NO_PROXY`` covers ``host`` (urllib's reading: ``*``, a host, a ``.domain`` suffix, host:port)."""
    bypass: Callable[[str, dict[str, str]], bool] = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 - not in typeshed
    return bypass(host, proxies)


def _authorization(via: httpx.URL) -> bytes:
    """``Proxy-Authorization: Basic …`` for a proxy URL that carries a user name and password (its userinfo)."""
    if not via.username:
        return b""
    pair = f"{via.username}:{via.password or ''}"  # httpx.URL decodes them
    return b"Proxy-Authorization: Basic %s\r\n" % base64.b64encode(pair.encode("utf-8"))
