"""The alert listener: where the team's alerting system (Alertmanager, Grafana, PagerDuty's webhook form, anything
that POSTs JSON) sends notifications during a run, and how the checks read them.

``AlertListener`` serves a Starlette app with uvicorn on the ``[alerts] listen`` address (loopback only). Every
POST, on any path, is a notification: read by ``formats.parse``, each alert in it given its *kind* by the team's
mapping (``Kinds``) and recorded with when it arrived; answered 200 (202 for PagerDuty's form), or 400 with what is
wrong — kept as *rejected* evidence, never a crash. Each notification is kept as received (``formats.redacted``).

``GET /_bluum-readiness/alerts`` answers everything received so far (the last ``KEEP``): the process that runs the
checks reads it through ``AlertFeed`` — another process under xdist, or this one.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness._serving import BackgroundServer
from bluum_readiness.alerts.formats import Alert, NotificationError, parse, redacted
from bluum_readiness.config import AlertsConfig
from bluum_readiness.errors import ConfigError, HarnessError

__all__ = ["KINDS", "READ_PATH", "AlertFeed", "AlertListener", "Kinds", "kind_of", "serve"]

KINDS = ("elevated_5xx", "rate_limited", "stuck_order", "webhook_failure")
READ_PATH = "/_bluum-readiness/alerts"
KEEP = 2000  # notifications (and alerts) kept; the oldest go first
MAX_BODY = 1_000_000  # bytes
TEXT_KEPT = 4000  # characters of a body that is not JSON, kept as evidence

Kinds = Mapping[str, Mapping[str, str]]
"""Each kind's matchers: label name -> value, all of which an alert must carry (``alertname`` is its name)."""


def kind_of(alert: Alert | Mapping[str, Any], kinds: Kinds) -> str | None:
    """The kind whose matchers ``alert`` (an ``Alert`` or its dict) meets (the first, in ``KINDS`` order), or None."""
    labels: dict[str, Any] = (
        {**alert.labels, "alertname": alert.name}
        if isinstance(alert, Alert)
        else {**alert.get("labels", {}), "alertname": alert.get("name")}
    )
    for kind in KINDS:
        matchers = kinds.get(kind)
        if matchers and all(labels.get(name) == value for name, value in matchers.items()):
            return kind
    return None


def _now_iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")


@dataclass
class _Store:
    notifications: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    by_dedup: dict[str, Alert]  # PagerDuty: a resolve names only its dedup key; the trigger said what it was
    seq: int = 0


class AlertListener:
    """Receives notifications on ``host:port`` (``start`` binds; a port in use is a ConfigError saying so)."""

    def __init__(self, kinds: Kinds, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.kinds = {k: dict(v) for k, v in kinds.items()}
        self._lock = threading.Lock()
        self._store = _Store([], [], {})
        app = Starlette(
            routes=[
                Route(READ_PATH, self._read, methods=["GET"]),
                Route("/{path:path}", self._receive, methods=["POST", "PUT"]),
            ]
        )
        self._server = BackgroundServer(app, host=host, port=port, name="bluum-alerts")
        self.url = self._server.url

    def start(self) -> AlertListener:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> AlertListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- receiving ------------------------------------------------------------------------------------------

    async def _receive(self, request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return self._reject(request, raw[:TEXT_KEPT], f"the notification is over {MAX_BODY:,} bytes", 413)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return self._reject(request, raw, f"the body is not JSON ({exc}); send a JSON notification")
        try:
            form, alerts = parse(body)
        except NotificationError as exc:
            return self._reject(request, body, str(exc))
        accepted = self._record(request, body, form, alerts)
        if form == "pagerduty":
            dedup = alerts[0].key.removeprefix("pagerduty:")
            return JSONResponse({"status": "success", "message": "Event processed", "dedup_key": dedup}, 202)
        return JSONResponse({"accepted": accepted, "format": form})

    def _reject(self, request: Request, body: Any, why: str, status: int = 400) -> Response:
        shown = body if isinstance(body, dict | list) else bytes(body).decode("utf-8", "replace")[:TEXT_KEPT]
        now = time.time()
        with self._lock:
            self._store.seq += 1
            self._keep(
                self._store.notifications,
                {
                    "seq": self._store.seq,
                    "received_at": _now_iso(now),
                    "received": now,
                    "path": request.url.path,
                    "status": "rejected",
                    "error": why,
                    "body": redacted(shown),
                },
            )
        return JSONResponse({"error": why}, status_code=status)

    def _record(self, request: Request, body: Any, form: str, alerts: list[Alert]) -> int:
        now = time.time()
        with self._lock:
            store = self._store
            store.seq += 1
            for alert in alerts:
                if alert.format == "pagerduty":
                    known = store.by_dedup.get(alert.key)
                    if alert.name:  # a trigger says what the alert is
                        store.by_dedup[alert.key] = alert
                    elif known is not None:  # a resolve or an acknowledge names only the dedup key
                        alert = dataclasses.replace(known, status=alert.status)
                self._keep(
                    store.alerts,
                    {
                        **alert.to_dict(),
                        "kind": kind_of(alert, self.kinds),
                        "at": _now_iso(now),
                        "received": now,
                        "notification": store.seq,
                    },
                )
            self._keep(
                store.notifications,
                {
                    "seq": store.seq,
                    "received_at": _now_iso(now),
                    "received": now,
                    "path": request.url.path,
                    "status": "accepted",
                    "format": form,
                    "alerts": len(alerts),
                    "body": redacted(body),
                },
            )
        return len(alerts)

    @staticmethod
    def _keep(into: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        into.append(entry)
        del into[:-KEEP]

    # -- reading --------------------------------------------------------------------------------------------

    async def _read(self, request: Request) -> Response:
        return JSONResponse(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seq": self._store.seq,
                "alerts": list(self._store.alerts),
                "notifications": list(self._store.notifications),
            }


class AlertFeed:
    """What the listener at ``url`` received, read over HTTP (from any process of the run).

    ``mark()`` is a position (the last notification's number); ``since(mark)`` the alerts received after it;
    ``firing(kind)`` the alerts of ``kind`` whose sender still reports them firing (its latest notification about
    each said firing, and it is one that sends a resolved notification when the alert ends). ``kinds``: the
    mapping the reader judges by (each alert's kind is given again with it); default: the listener's."""

    def __init__(self, url: str, kinds: Kinds | None = None, *, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.kinds = kinds
        self._client = httpx.Client(timeout=timeout_s, verify=tls_context_for(self.url))

    def read(self) -> dict[str, Any]:
        try:
            response = self._client.get(self.url + READ_PATH)
            response.raise_for_status()
            found: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise HarnessError(
                f"the suite's alert listener at {self.url} could not be read ({type(exc).__name__}: {exc}); "
                "is the run's listener still serving?"
            ) from None
        if self.kinds is not None:
            for alert in found["alerts"]:
                alert["kind"] = kind_of(alert, self.kinds)
        return found

    def mark(self) -> int:
        seq: int = self.read()["seq"]
        return seq

    def since(self, mark: int, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            a for a in self.read()["alerts"] if a["notification"] > mark and (kind is None or a.get("kind") == kind)
        ]

    def notifications(self, seqs: set[int] | None = None) -> list[dict[str, Any]]:
        """The notifications (as received, redacted) numbered ``seqs``, or all of them."""
        return [n for n in self.read()["notifications"] if seqs is None or n["seq"] in seqs]

    def firing(self, kind: str) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for alert in self.read()["alerts"]:
            if alert.get("lasting"):
                latest[alert["key"]] = alert
        return [a for a in latest.values() if a["status"] == "firing" and a.get("kind") == kind]

    def close(self) -> None:
        self._client.close()


def serve(config: AlertsConfig) -> AlertListener:
    """The run's listener on ``config.listen``, started; a ConfigError (exit 2) when the address is taken."""
    try:
        return AlertListener(config.matchers, host=config.host, port=config.port).start()
    except ConfigError as exc:
        raise ConfigError(
            f"[alerts] listen = {config.listen!r}: the suite cannot listen there ({exc}); stop what holds the port "
            "(another run?) or choose another port and point your alerting system at it"
        ) from None
