"""Where the alert checks see alerts: the integration's ``alerts()`` and/or the run's alert listener (``[alerts]``:
the team's alerting pipeline, docs/alerts.md), behind one interface.

``AlertSources.of(h, integration, kind)`` reads whichever the run has (NotVerifiable, with both reasons, when it has
neither). A check marks a position (``mark``), brings on normal traffic or a cause, and reads what arrived since
(``seen``, ``wait_for``); alerts are the dicts ``alerts()`` returns, each tagged with its ``source``. The pipeline is
slower than a method call: a false alarm arrives a scrape, an evaluation and a ``group_wait`` after its cause, so the
quiet phase *watches* for ``[alerts] quiet_s`` (``watch_quiet``); and an alert of the kind still firing from
earlier in the run (the error-handling checks' 5xx) is first given ``resolve_timeout_s`` to resolve (``settle``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bluum_readiness.alerts.listener import AlertFeed
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import poll

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

__all__ = ["ADAPTER", "LISTENER", "NO_SOURCE", "AlertSources", "Mark", "known_unavailable"]

ADAPTER = "alerts()"
LISTENER = "alerting pipeline"
FEED_POLL_S = 0.1
NO_ADAPTER_ALERTS = "the integration does not expose alerts() (an optional capability of the adapter)"
NO_SOURCE = (
    f"{NO_ADAPTER_ALERTS}, and no [alerts] table is configured to receive the team's alert notifications "
    "(docs/alerts.md)"
)


def known_unavailable(factory: Any, alerts_config: object | None) -> str | None:
    """Why a check that needs alerts is not verifiable, known before the integration is made: no ``[alerts]``, and
    a program (``exec:``) whose last start advertised no ``alerts`` capability (``ProgramFactory.advertised``). None
    when only making the integration can tell (a Python adapter, a program not started yet): its check then starts it
    and reads the same reason from ``AlertSources.of``. Spares a program start per alert check."""
    advertised = getattr(factory, "advertised", None)
    if alerts_config is None and isinstance(advertised, frozenset) and "alerts" not in advertised:
        return NO_SOURCE
    return None


@dataclass(frozen=True)
class Mark:
    """A position in both sources: how many alerts ``alerts()`` held, and the listener's last notification."""

    adapter: int = 0
    listener: int = 0
    at: float = 0.0  # when, in seconds since the epoch (an alert that started before it did not follow it)


def _about(alert: dict[str, Any], order_id: str | None) -> bool:
    return order_id is None or order_id in json.dumps(alert, default=str)


class AlertSources:
    """The alerts of one ``kind`` a check can see (build with ``of``)."""

    def __init__(
        self, h: Harness, kind: str, adapter: Callable[[], list[dict[str, Any]]] | None, feed: AlertFeed | None
    ) -> None:
        self.h = h
        self.kind = kind
        self.adapter = adapter
        self.feed = feed
        config = h.config.alerts
        self.expected = config.expected(kind) if config is not None else None
        self.quiet_s = config.quiet_s if config is not None else 0.0
        self.resolve_timeout_s = config.resolve_timeout_s if config is not None else 0.0

    @classmethod
    def of(cls, h: Harness, integration: Any, kind: str) -> AlertSources:
        read = getattr(integration, "alerts", None)
        adapter = _reader(h, integration) if callable(read) else None
        config = h.config.alerts
        feed = None
        if config is not None and config.expected(kind):
            host = f"[{config.host}]" if ":" in config.host else config.host
            feed = AlertFeed(f"http://{host}:{config.port}", config.matchers)
            h.on_close(feed.close)
        if adapter is None and feed is None:
            if config is None:
                raise NotVerifiable(NO_SOURCE)
            raise NotVerifiable(
                f'{NO_ADAPTER_ALERTS}, and [alerts] maps no alert to {kind} (e.g. {kind} = "AcmeBluumAlert", '
                "docs/alerts.md)"
            )
        return cls(h, kind, adapter, feed)

    @property
    def names(self) -> list[str]:
        """The sources read, as findings name them."""
        return [name for name, used in ((ADAPTER, self.adapter), (LISTENER, self.feed)) if used is not None]

    def mark(self) -> Mark:
        return Mark(
            len(self.adapter()) if self.adapter is not None else 0,
            self.feed.mark() if self.feed is not None else 0,
            time.time(),
        )

    def seen(self, mark: Mark, about: str | None = None, kind: str | None = "") -> list[dict[str, Any]]:
        """The alerts of this kind (``kind=None``: of any kind) from either source since ``mark``, oldest first;
        ``about``: only those naming that order id."""
        wanted = self.kind if kind == "" else kind
        found: list[dict[str, Any]] = []
        if self.adapter is not None:
            found += [
                {**a, "source": ADAPTER}
                for a in self.adapter()[mark.adapter :]
                if (wanted is None or a.get("kind") == wanted) and _about(a, about)
            ]
        if self.feed is not None:
            found += [{**a, "source": LISTENER} for a in self.feed.since(mark.listener, wanted) if _about(a, about)]
        return found

    def others(self, mark: Mark) -> list[str]:
        """What else the listener received since ``mark`` (names and kinds): a finding's hint when the team's
        alert arrived under another name than the one mapped."""
        if self.feed is None:
            return []
        return sorted({f"{a['name']} ({a.get('kind') or 'no kind'})" for a in self.feed.since(mark.listener)})

    def rejected(self, mark: Mark) -> list[dict[str, Any]]:
        """The notifications the listener could not read since ``mark`` (as received, with why): a finding's hint
        when the team's system sends something the listener does not understand."""
        if self.feed is None:
            return []
        return [n for n in self.feed.notifications() if n["status"] == "rejected" and n["seq"] > mark.listener]

    def wait_for(self, mark: Mark, about: str | None = None) -> list[dict[str, Any]]:
        """Alerts of this kind since ``mark`` (about ``about``), waiting up to ``alert_timeout_s`` for the first."""
        found: list[dict[str, Any]] = poll(
            lambda: self.seen(mark, about), bool, self.h.thresholds.alert_timeout_s, interval=self._interval()
        )
        return found

    def settle(self) -> list[dict[str, Any]]:
        """Give alerts of this kind still firing (from earlier in the run) ``resolve_timeout_s`` to resolve; what
        still fires then (nothing without the listener: ``alerts()`` has no state)."""
        if self.feed is None:
            return []
        feed = self.feed
        firing: list[dict[str, Any]] = poll(
            lambda: feed.firing(self.kind), lambda f: not f, self.resolve_timeout_s, interval=FEED_POLL_S
        )
        self.h.evidence.setdefault("alerts_settled", {})[self.kind] = [a["name"] for a in firing]
        return [{**a, "source": LISTENER} for a in firing]

    def watch_quiet(self, mark: Mark) -> list[dict[str, Any]]:
        """Alerts of this kind since ``mark``: at once from ``alerts()``, and after watching the listener up to
        ``quiet_s`` (a false alarm travels through the pipeline first); plus what the listener says still fires."""
        if self.feed is None:
            return self.seen(mark)
        feed = self.feed
        found: list[dict[str, Any]] = poll(lambda: self.seen(mark), bool, self.quiet_s, interval=FEED_POLL_S)
        keys = {a.get("key") for a in found}
        return found + [{**a, "source": LISTENER} for a in feed.firing(self.kind) if a.get("key") not in keys]

    def still_firing(self) -> list[dict[str, Any]]:
        """What the listener says still fires of this kind, waiting up to ``alert_timeout_s`` for it to resolve."""
        if self.feed is None:
            return []
        feed = self.feed
        firing: list[dict[str, Any]] = poll(
            lambda: feed.firing(self.kind), lambda f: not f, self.h.thresholds.alert_timeout_s, interval=FEED_POLL_S
        )
        return [{**a, "source": LISTENER} for a in firing]

    def notifications(self, alerts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The notifications (as received, redacted) that carried ``alerts``: the evidence."""
        if self.feed is None:
            return []
        seqs = {a["notification"] for a in alerts if a.get("source") == LISTENER and "notification" in a}
        return self.feed.notifications(seqs) if seqs else []

    def _interval(self) -> float:
        if self.feed is not None:
            return FEED_POLL_S
        return 0.02 if self.h.target.twin else 0.1


def _reader(h: Harness, integration: Any) -> Callable[[], list[dict[str, Any]]]:
    read = h.capability(integration, "alerts")

    def alerts() -> list[dict[str, Any]]:
        found = read()
        if not isinstance(found, list) or not all(isinstance(a, dict) for a in found):
            raise NotVerifiable(f"alerts() returned {type(found).__name__}, not a list of dicts with a 'kind'")
        return found

    return alerts
