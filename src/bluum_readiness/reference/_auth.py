"""HTTP Basic auth that follows key rotation: the pair is read from the secret source for every request.

On a 401 the flow re-reads the pair and sends the request once more: at once if the pair changed (it was
rotated under us), after a short wait if it did not (the new pair may still be propagating). A second 401
goes back to the client, which raises ``AuthenticationError``: never a loop on 401.

The secret lives only in the ``Authorization`` header of the outgoing request; nothing here logs or stores it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

from bluum_readiness.integration import Credentials

__all__ = ["RotatingBasicAuth"]


class RotatingBasicAuth(httpx.Auth):
    """``httpx.Auth`` with the *current* key pair of ``credentials``, and one refresh on 401.

    :param credentials: returns the current pair, as a secret manager does (``IntegrationEnv.credentials``).
    :param sleep: how to wait (injected so tests never really sleep).
    :param refresh_wait_s: the wait before the single retry when the re-read pair is unchanged.
    """

    def __init__(
        self, credentials: Callable[[], Credentials], *, sleep: Callable[[float], None], refresh_wait_s: float
    ) -> None:
        self._credentials = credentials
        self._sleep = sleep
        self._refresh_wait_s = refresh_wait_s

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self._credentials()
        response = yield _signed(request, used)
        if response.status_code != 401:
            return
        fresh = self._credentials()
        if fresh == used:
            self._sleep(self._refresh_wait_s)
            fresh = self._credentials()
        yield _signed(request, fresh)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(refresh_wait_s={self._refresh_wait_s})"


def _signed(request: httpx.Request, pair: Credentials) -> httpx.Request:
    request.headers["Authorization"] = f"Basic {pair.basic_token()}"
    return request
