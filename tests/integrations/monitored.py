"""An integration that alerts the way teams do: no ``alerts()``, Prometheus metrics instead.

It is the reference integration with ``alerts()`` hidden, exporting (``prometheus_client``) the three metrics that
examples/monitoring/ alerts on, for the run's Prometheus to scrape:

- ``bluum_api_responses_total{status}``: every answer Bluum gave (every attempt), by HTTP status; the statuses the
  rules alert on start at 0, so the first 503 is an increase;
- ``bluum_oldest_open_order_age_seconds``: how long the oldest order it placed has been non-terminal (0: none). An
  order older than ``RECHECK_S`` is read again at each scrape (its webhook may not come), so one that filled quietly
  stops counting;
- ``bluum_webhook_events_missing_total``: events expected after a create (once its receiver serves) that did not
  arrive within ``GRACE_S``.

Every series carries ``service`` (``EXPORTER.reset(service)``), so the tests of one Prometheus can tell one run's
alerts from the last one's. ``EXPORTER.start()`` serves ``/metrics`` on a loopback port.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bluum_readiness.integration import IntegrationEnv
from bluum_readiness.reference import ReferenceIntegration, create_fast

ALERTED_STATUSES = ("429", "500", "502", "503", "504")
RECHECK_S = 0.3  # an open order older than this is read again at each scrape
GRACE_S = 0.5  # an expected webhook event later than this is missing


class Monitoring:
    """One service's metrics, collected from its live integrations at each scrape."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.lock = threading.Lock()
        self.responses: dict[str, int] = dict.fromkeys(ALERTED_STATUSES, 0)
        self.missing = 0
        self.live: list[ReferenceIntegration] = []
        self.registry = CollectorRegistry()
        self.registry.register(self)  # type: ignore[arg-type]

    def answered(self, status: int | None) -> None:
        if status is None:
            return
        with self.lock:
            self.responses[str(status)] = self.responses.get(str(status), 0) + 1

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        oldest = 0.0
        for integration in list(self.live):
            oldest = max(oldest, self._oldest_open_order(integration, now))
            self._count_missing_webhooks(integration, now)
        labels = {"service": self.service}
        responses = CounterMetricFamily(
            "bluum_api_responses", "Answers from the Bluum API, every attempt", labels=["service", "status"]
        )
        with self.lock:
            for status, count in sorted(self.responses.items()):
                responses.add_metric([self.service, status], count)
            missing = self.missing
        yield responses
        age = GaugeMetricFamily(
            "bluum_oldest_open_order_age_seconds", "Age of the oldest non-terminal order placed", labels=list(labels)
        )
        age.add_metric([self.service], oldest)
        yield age
        gone = CounterMetricFamily(
            "bluum_webhook_events_missing", "Expected webhook events that never came", labels=list(labels)
        )
        gone.add_metric([self.service], missing)
        yield gone

    def _oldest_open_order(self, integration: ReferenceIntegration, now: float) -> float:
        monitor = integration.monitor
        with monitor._lock:
            orders = list(monitor._orders.values())
        for order in orders:
            if now - order.placed_at > RECHECK_S:
                try:
                    status = integration.client.get_order(order.investor_id, order.order_id).get("status")
                except Exception:  # unreadable: still open as far as we know
                    continue
                monitor.order_seen(order.order_id, str(status))
        with monitor._lock:
            ages = [now - o.placed_at for o in monitor._orders.values()]
        return max(ages, default=0.0)

    def _count_missing_webhooks(self, integration: ReferenceIntegration, now: float) -> None:
        monitor = integration.monitor
        receiver = integration.receiver
        with monitor._lock:
            late = [rid for rid, (_, since) in monitor._expected.items() if now - since > GRACE_S]
            for rid in late:
                del monitor._expected[rid]
        arrived = [rid for rid in late if receiver is not None and receiver.resource_status(rid) is not None]
        with self.lock:
            self.missing += len(late) - len(arrived)


class Exporter:
    """``/metrics`` on a loopback port, for the current ``Monitoring`` (``reset`` starts another service's)."""

    def __init__(self) -> None:
        self.current = Monitoring("bluum")
        self.server: ThreadingHTTPServer | None = None

    def reset(self, service: str) -> Monitoring:
        self.current = Monitoring(service)
        return self.current

    def start(self, port: int = 0) -> int:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = generate_latest(exporter.current.registry)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True).start()
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


EXPORTER = Exporter()


class MonitoredIntegration:
    """The reference integration without ``alerts()``: its monitoring is the metrics above."""

    def __init__(self, inner: ReferenceIntegration, monitoring: Monitoring) -> None:
        self._inner = inner
        self._monitoring = monitoring
        inner.client.log.subscribe(lambda exchange: monitoring.answered(exchange.status))
        monitoring.live.append(inner)

    def __getattr__(self, name: str) -> Any:
        if name == "alerts":  # it alerts from its monitoring, not from its client
            raise AttributeError(name)
        return getattr(self._inner, name)

    def close(self) -> None:
        if self._inner in self._monitoring.live:
            self._monitoring.live.remove(self._inner)
        self._inner.close()


def exporting_to(exporter: Exporter) -> Callable[..., MonitoredIntegration]:
    """A factory: the reference (fast policies) exporting metrics to ``exporter``'s current service."""

    def create(env: IntegrationEnv, **kwargs: Any) -> MonitoredIntegration:
        return MonitoredIntegration(create_fast(env, **kwargs), exporter.current)

    return create


create = exporting_to(EXPORTER)


def create_serving(env: IntegrationEnv, **kwargs: Any) -> MonitoredIntegration:
    """``create``, serving ``/metrics`` on ``BLUUM_METRICS_PORT`` (default 9464) from the first call on, as a team's
    service does (for a ``bluum-readiness run`` against a Prometheus scraping that port)."""
    if EXPORTER.server is None:
        EXPORTER.start(int(os.environ.get("BLUUM_METRICS_PORT", "9464")))
    return create(env, **kwargs)
