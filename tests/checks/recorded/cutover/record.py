"""Record the observations of ``tests/checks/recorded/cutover`` from real runs (the embedded twin, real sockets):
``python -m tests.checks.recorded.cutover.record [name ...]`` (all when none is named). Each integration is observed
on the scenarios of exactly the checks its test judges it on, in a session with the thresholds the live tests used
(``alert_timeout_s=1.2``, ``settle_timeout_s=1.5``), written by ``recording.write`` (``tests/checks/recorded``):
trimmed to what the judges read, and refused if any judge judges it differently from the facts as observed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from bluum_readiness.config import Thresholds
from bluum_readiness.integration import IntegrationEnv, load_factory
from tests.checks.recorded import Plans, record_chosen
from tests.checks.recorded.cutover import CHECKS, HERE
from tests.integrations import configurable, cutover_variants

Factory = Callable[[IntegrationEnv], Any]
#: The checks that read ``alerts()``: all an alert defect (``cutover_variants.MONITOR_ONLY``) is judged on.
READS_ALERTS = (
    "observability.alert-5xx",
    "observability.alert-429",
    "observability.alert-stuck-order",
    "observability.alert-webhook-failure",
    "observability.no-secrets-in-logs",
)
FAILURES_LOGGED = ("observability.failures-logged",)
LIVE_THRESHOLDS = Thresholds(alert_timeout_s=1.2, settle_timeout_s=1.5)


class GoLikeTransport:
    """An HTTP transport that resends by itself, as far as failures-logged can tell: a request with an
    Idempotency-Key whose connection closes before any answer is sent again at once, inside the transport — the
    integration's code sees one attempt. (Go's http.Transport does so on a reused connection, which the scenario no
    longer leaves it; Java's HttpClient resends a GET on any connection.)"""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def handle_request(self, request: Any) -> Any:
        import httpx

        try:
            return self.inner.handle_request(request)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if "idempotency-key" not in request.headers:
                raise
            return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def go_like(env: IntegrationEnv) -> Any:
    """A correct integration with no request timeout whose transport replays the deposit the proxy hung up on."""
    import httpx

    from bluum_readiness._client_tls import default_tls_context
    from tests.integrations.variants import GOOD

    transport = GoLikeTransport(httpx.HTTPTransport(verify=default_tls_context()))
    return configurable.ConfigurableIntegration(env, GOOD.but(client_timeout=False), transport=transport)


def recordings() -> Plans:
    """name -> (how to make its factory, the checks it is judged on, the session's thresholds)."""
    made: Plans = {
        "reference": (lambda: load_factory("bluum_readiness.reference:create_fast"), CHECKS, LIVE_THRESHOLDS),
        **{
            name: ((lambda name=name: getattr(cutover_variants, name)), CHECKS, LIVE_THRESHOLDS)
            for name in ("correct_different", "caches_but_refreshes_on_401", "logs_only")
        },
        "logs_only_fields": (lambda: cutover_variants.logs_only_fields, FAILURES_LOGGED, LIVE_THRESHOLDS),
        # the proxy holds the deposit request_timeout_s * 3 = 0.6 s before it hangs up
        "go_like_transport": (lambda: go_like, FAILURES_LOGGED, Thresholds(request_timeout_s=0.2)),
    }
    for name, (factory, _) in cutover_variants.KNOWN_BAD.items():
        checks = READS_ALERTS if name in cutover_variants.MONITOR_ONLY else CHECKS
        made[name] = ((lambda factory=factory: factory), checks, LIVE_THRESHOLDS)
    return made


if __name__ == "__main__":
    record_chosen(HERE, recordings(), sys.argv[1:])
