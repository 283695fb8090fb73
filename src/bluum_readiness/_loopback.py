"""Traffic to this machine never goes through an HTTP proxy the environment names.

A CI runner behind a corporate proxy sets ``HTTP_PROXY``/``HTTPS_PROXY`` (or ``ALL_PROXY``) for its egress, not
always with ``NO_PROXY`` covering loopback. httpx (the suite's clients and the reference integration), requests and
most clients then send requests for ``127.0.0.1`` to that proxy: a run against the embedded twin found every check
broken ("the target did not answer"), and its traffic left the machine. ``keep_loopback_direct`` adds the loopback
names to ``NO_PROXY`` (and ``no_proxy``) of this process, which every program it starts inherits (an ``exec:``
integration, the sandbox's webhook deliveries); requests to anywhere else (Bluum's sandbox, a team's https endpoint)
still go through the proxy, as that network needs.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["LOOPBACK", "keep_loopback_direct"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def keep_loopback_direct(environ: MutableMapping[str, str] = os.environ) -> None:
    """Where ``environ`` names a proxy, make sure ``NO_PROXY`` and ``no_proxy`` both hold the loopback names, after
    what they held already; otherwise change nothing."""
    if not any(environ.get(name) for name in _PROXY_VARIABLES):
        return
    held = [host.strip() for name in ("NO_PROXY", "no_proxy") for host in environ.get(name, "").split(",")]
    merged = ",".join(dict.fromkeys(host for host in [*held, *LOOPBACK] if host))
    environ["NO_PROXY"] = environ["no_proxy"] = merged
