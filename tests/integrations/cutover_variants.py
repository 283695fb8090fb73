"""Known-bad integrations for the cut-over items ``credential-rotation`` and ``observability`` (one defect each), the
checks that must flag them, and correct-but-different ones that must pass.

Log and credential defects turn one knob of the plain ``ConfigurableIntegration``; alert defects are the reference
with one signal left unwired in its ``AlertMonitor`` (as a team would forget it). Each entry is usable as
``--integration tests.integrations.cutover_variants:<name>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.reference import ReferenceIntegration, create_fast
from bluum_readiness.reference._alerts import FAST_ALERTS, AlertMonitor
from tests.integrations.configurable import ConfigurableIntegration, Knobs, LogsOnly

GOOD = Knobs()


def _configurable(knobs: Knobs) -> Callable[[IntegrationEnv], Any]:
    def create(env: IntegrationEnv) -> ConfigurableIntegration:
        return ConfigurableIntegration(env, knobs)

    return create


def _reference_with(monitor: type[AlertMonitor]) -> Callable[[IntegrationEnv], Any]:
    def create(env: IntegrationEnv) -> ReferenceIntegration:
        integration = create_fast(env)
        integration.monitor = monitor(FAST_ALERTS)
        return integration

    create.monitor = monitor  # type: ignore[attr-defined]  # what tells it from the reference (see MONITOR_ONLY)
    return create


class NeverWatchesOrders(AlertMonitor):
    """Places orders without ever watching them: no stuck-order alert can fire."""

    def order_placed(self, investor_id: str, order: dict[str, Any]) -> None:
        return None


class NoWebhookExpectations(AlertMonitor):
    """Never expects a webhook after a create, so a silent endpoint goes unnoticed."""

    def expect_webhook(self, resource_id: str, what: str) -> None:
        return None


class Only500IsAServerError(AlertMonitor):
    """Counts HTTP 500 only: 502, 503 and 504 (gateway and overload errors) never reach the 5xx alert."""

    def observe(self, method: str, path: str, status: int | None, request_id: str | None) -> None:
        super().observe(method, path, 200 if status in (502, 503, 504) else status, request_id)


class RateLimitIsJustARetry(AlertMonitor):
    """Treats 429 as routine: retries it and never tells anyone."""

    def observe(self, method: str, path: str, status: int | None, request_id: str | None) -> None:
        super().observe(method, path, 200 if status == 429 else status, request_id)


class CriesWolf(AlertMonitor):
    """Raises every kind of alert on every exchange, so its alerts mean nothing."""

    def observe(self, method: str, path: str, status: int | None, request_id: str | None) -> None:
        with self._lock:
            for kind in ("elevated_5xx", "rate_limited", "stuck_order", "webhook_failure"):
                self._fire(kind, f"{method} {path} -> {status}", path=path, request_id=request_id)


# Correct integrations built differently: the plain one (no alerts(): those checks are not verifiable for it) and
# one that caches the pair but re-reads it on 401 (brief caching is fine when a 401 refreshes it).
correct_different = _configurable(GOOD)
caches_but_refreshes_on_401 = _configurable(GOOD.but(cache_credentials=True))


def logs_only(env: IntegrationEnv) -> Any:
    """No request_log(): judged on its log lines (plain text with method, path, status and request id)."""
    return LogsOnly(env, GOOD)


def _logs_only(knobs: Knobs) -> Callable[[IntegrationEnv], Any]:
    return lambda env: LogsOnly(env, knobs)


def logs_only_fields(env: IntegrationEnv) -> Any:
    """No request_log(): judged on its log records, structured extras (``extra={"request_id": …, "method": …}``),
    a failed attempt's with an ``error`` field."""
    return LogsOnly(env, GOOD.but(log_fields=True))


# name -> (factory, the checks that must flag it: exactly these, no others)
KNOWN_BAD: dict[str, tuple[Callable[[IntegrationEnv], Any], set[str]]] = {
    "credentials_cached_forever": (
        _configurable(GOOD.but(cache_credentials=True, refresh_on_401=False)),
        {"credential-rotation.drill"},
    ),
    "log_without_request_ids": (_configurable(GOOD.but(log_request_ids=False)), {"observability.request-log"}),
    # no request_log(): its log lines are judged, and they lack the X-Request-Id
    "log_lines_without_request_ids": (_logs_only(GOOD.but(log_request_ids=False)), {"observability.request-log"}),
    "no_failure_logs": (_configurable(GOOD.but(log_failures=False)), {"observability.failures-logged"}),
    # no request_log() either: judged on its log records alone, which give every answered exchange (request id,
    # method, path, status, duration as structured extras) and say nothing of a reset or a timeout
    "no_failure_log_lines": (
        _logs_only(GOOD.but(log_fields=True, log_failures=False)),
        {"observability.failures-logged"},
    ),
    "logs_authorization_header": (
        _configurable(GOOD.but(log_auth_header=True)),
        {"observability.no-secrets-in-logs"},
    ),
    "no_stuck_order_alert": (_reference_with(NeverWatchesOrders), {"observability.alert-stuck-order"}),
    "no_webhook_failure_alert": (_reference_with(NoWebhookExpectations), {"observability.alert-webhook-failure"}),
    "only_500_counts_as_5xx": (_reference_with(Only500IsAServerError), {"observability.alert-5xx"}),
    "no_429_alert": (_reference_with(RateLimitIsJustARetry), {"observability.alert-429"}),
    # every alert check holds a quiet phase (or an order that filled) where no alert of its kind may fire
    "cries_wolf": (
        _reference_with(CriesWolf),
        {
            "observability.alert-5xx",
            "observability.alert-429",
            "observability.alert-stuck-order",
            "observability.alert-webhook-failure",
        },
    ),
}

for _name, (_made, _) in KNOWN_BAD.items():
    globals()[_name] = _made

# The alert defects: the reference with only its AlertMonitor replaced (the monitor observes; it never changes a
# request, a retry or a log line), so only the checks that read alerts() can tell them from the reference.
MONITOR_ONLY = {name for name, (made, _) in KNOWN_BAD.items() if hasattr(made, "monitor")}
