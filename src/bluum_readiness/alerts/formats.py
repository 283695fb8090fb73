"""Alert notifications as alerting systems POST them, read into one shape: ``Alert``.

Four formats, told apart by their fields (``parse``):

- **Alertmanager** webhook (``"version": "4"``, ``alerts`` with ``labels`` / ``annotations`` / ``status``);
- **Grafana** alerting webhook (the same alerts, plus ``orgId`` / ``state`` / ``title`` and per-alert
  ``valueString``, ``silenceURL``…);
- **PagerDuty** Events API v2 (``event_action`` = trigger / acknowledge / resolve, ``dedup_key``, ``payload``);
- **plain JSON**, for anything else (a Datadog or Opsgenie webhook with a custom payload): one object or a list of
  objects ``{"alert": NAME, "status": "firing" | "resolved", "labels": {...}, "order_id": ..., "message": ...}``,
  where only ``alert`` is required.

A notification that fits none, or fits one badly, is a ``NotificationError`` whose message says what is wrong: the
listener answers it 400 and keeps it as rejected evidence.

``Alert.status`` is "firing" or "resolved"; ``lasting`` says whether the sender tracks the alert's state (it will
send a resolved notification when it ends: Alertmanager, Grafana, a PagerDuty trigger, a plain alert with a
``status``) or sent a one-off event (a plain alert without ``status``). ``order_id``: the first Bluum order id
(``ord_…``) any label, annotation or field holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FORMATS", "Alert", "NotificationError", "parse", "redacted"]

FORMATS = ("alertmanager", "grafana", "pagerduty", "json")
ORDER_ID = re.compile(r"\bord_[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*")
FIRING_WORDS = {
    *("firing", "alerting", "alert", "triggered", "trigger", "re-triggered", "retriggered", "renotify", "open"),
    *("opened", "problem", "critical", "error", "warn", "warning", "no data", "nodata"),
}
RESOLVED_WORDS = {"resolved", "resolve", "recovered", "ok", "closed", "close", "normal", "cleared"}
SECRET_FIELDS = re.compile(r"(routing|integration|service|api|access|auth)[_-]?key|token|secret|password|authori[sz]")


class NotificationError(ValueError):
    """A notification the listener cannot read; the message says what is wrong (it is the 400 answer's body)."""


@dataclass(frozen=True)
class Alert:
    """One alert of a notification, whatever its format.

    :param name: the alert's name (Alertmanager's ``alertname`` label, PagerDuty's ``custom_details.alertname`` or
        summary, the plain form's ``alert``).
    :param labels: what matchers compare (``alertname`` included).
    :param key: the alert's identity across notifications (a fingerprint, a dedup key, its name and labels).
    """

    name: str
    status: str
    labels: Mapping[str, str]
    key: str
    format: str
    lasting: bool = True
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: str | None = None
    order_id: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "key": self.key,
            "format": self.format,
            "lasting": self.lasting,
            "starts_at": self.starts_at,
            "order_id": self.order_id,
            "message": self.message,
        }


def parse(body: Any) -> tuple[str, list[Alert]]:
    """(the format, its alerts) of a notification's JSON ``body``; NotificationError when it is none of them."""
    if isinstance(body, list):
        return "json", [_plain(entry, f"entry {n}") for n, entry in enumerate(body)] or _empty()
    if not isinstance(body, dict):
        raise NotificationError(f"a notification is a JSON object (or a list of plain alerts), not {_kind(body)}")
    if "alerts" in body:
        form = "grafana" if _is_grafana(body) else "alertmanager"
        return form, _alertmanager(body, form)
    if "event_action" in body:
        return "pagerduty", [_pagerduty(body)]
    if "alert" in body:
        return "json", [_plain(body, "the notification")]
    raise NotificationError(
        "not a notification this listener reads: expected an Alertmanager or Grafana webhook (an 'alerts' list), a "
        'PagerDuty Events API v2 event (\'event_action\'), or a plain alert ({"alert": NAME, "status": "firing"}); '
        f"got an object with keys {sorted(body)[:8]}"
    )


def _empty() -> list[Alert]:
    raise NotificationError("the notification is an empty list: send at least one alert")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _texts(value: Any, where: str) -> dict[str, str]:
    """A map of names to texts (labels, annotations); numbers and booleans are shown as text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NotificationError(f"{where} must be an object of names to texts, not {_kind(value)}")
    found: dict[str, str] = {}
    for key, inner in value.items():
        if isinstance(inner, str | int | float | bool):
            found[str(key)] = str(inner)
        elif inner is not None:
            raise NotificationError(f"{where}.{key} must be a text, not {_kind(inner)}")
    return found


def _status(value: Any, where: str) -> str:
    word = str(value).strip().lower() if isinstance(value, str) else ""
    if word in FIRING_WORDS:
        return "firing"
    if word in RESOLVED_WORDS:
        return "resolved"
    raise NotificationError(f'{where} is {value!r}: use "firing" or "resolved"')


def _order_id(*texts: Any) -> str | None:
    for text in texts:
        values = text.values() if isinstance(text, Mapping) else [text]
        for value in values:
            if isinstance(value, Mapping | list):
                found = _order_id(*(value if isinstance(value, list) else [value]))
            else:
                match = ORDER_ID.search(str(value)) if value is not None else None
                found = match.group(0) if match else None
            if found:
                return found
    return None


def _is_grafana(body: Mapping[str, Any]) -> bool:
    """Grafana's webhook carries ``orgId`` (and ``state``, ``title``); its alerts ``valueString``, ``silenceURL``."""
    if "orgId" in body or ("state" in body and "title" in body):
        return True
    alerts = body.get("alerts")
    return isinstance(alerts, list) and any(
        isinstance(a, dict) and ("valueString" in a or "silenceURL" in a or "dashboardURL" in a) for a in alerts
    )


def _alertmanager(body: Mapping[str, Any], form: str) -> list[Alert]:
    alerts = body["alerts"]
    if not isinstance(alerts, list) or not alerts:
        raise NotificationError(f"'alerts' must be a non-empty list of alerts, not {_kind(alerts)}")
    found = []
    for n, entry in enumerate(alerts):
        where = f"alerts[{n}]"
        if not isinstance(entry, dict):
            raise NotificationError(f"{where} must be an object, not {_kind(entry)}")
        labels = _texts(entry.get("labels"), f"{where}.labels")
        name = labels.get("alertname")
        if not name:
            raise NotificationError(f"{where} has no 'alertname' label: every alert needs one")
        annotations = _texts(entry.get("annotations"), f"{where}.annotations")
        status = _status(entry.get("status", body.get("status")), f"{where}.status")
        key = str(entry.get("fingerprint") or "") or _identity(name, labels)
        starts = entry.get("startsAt")
        found.append(
            Alert(
                name=name,
                status=status,
                labels=labels,
                key=f"{form}:{key}",
                format=form,
                annotations=annotations,
                starts_at=str(starts) if starts else None,
                order_id=_order_id(labels, annotations),
                message=annotations.get("summary") or annotations.get("description") or "",
            )
        )
    return found


def _pagerduty(body: Mapping[str, Any]) -> Alert:
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        raise NotificationError(f"event_action is {action!r}: PagerDuty Events v2 uses trigger, acknowledge, resolve")
    dedup = body.get("dedup_key")
    if dedup is not None and not isinstance(dedup, str):
        raise NotificationError(f"dedup_key must be a text, not {_kind(dedup)}")
    payload = body.get("payload")
    labels: dict[str, str] = {}
    message = ""
    if action == "trigger":
        if not isinstance(payload, dict):
            raise NotificationError("a trigger event needs a 'payload' object (summary, source, severity)")
        missing = [k for k in ("summary", "source", "severity") if not payload.get(k)]
        if missing:
            raise NotificationError(f"the trigger's payload has no {', '.join(missing)} (PagerDuty requires them)")
        labels = _texts({k: v for k, v in payload.items() if k != "custom_details" and not isinstance(v, dict)},
                        "payload")  # fmt: skip
        details = payload.get("custom_details")
        if isinstance(details, dict):
            labels.update({k: str(v) for k, v in details.items() if isinstance(v, str | int | float | bool)})
        message = str(payload["summary"])
    elif not dedup:
        raise NotificationError(f"a {action} event needs the dedup_key of the alert it is about")
    name = labels.get("alertname") or message
    labels.setdefault("alertname", name)
    return Alert(
        name=name,
        status="resolved" if action == "resolve" else "firing",
        labels=labels,
        key=f"pagerduty:{dedup or _identity(name, labels)}",
        format="pagerduty",
        starts_at=str(payload.get("timestamp")) if isinstance(payload, dict) and payload.get("timestamp") else None,
        order_id=_order_id(labels, payload if isinstance(payload, dict) else {}),
        message=message,
    )


def _plain(entry: Any, where: str) -> Alert:
    if not isinstance(entry, dict):
        raise NotificationError(f'{where} must be an object like {{"alert": NAME}}, not {_kind(entry)}')
    name = entry.get("alert")
    if not isinstance(name, str) or not name.strip():
        raise NotificationError(f"{where} has no 'alert' (the alert's name, a non-empty text)")
    labels = _texts(entry.get("labels"), f"{where}.labels")
    labels["alertname"] = name
    lasting = "status" in entry
    status = _status(entry["status"], f"{where}.status") if lasting else "firing"
    order = entry.get("order_id")
    message = entry.get("message")
    return Alert(
        name=name,
        status=status,
        labels=labels,
        key=f"json:{entry.get('id') or _identity(name, labels)}",
        format="json",
        lasting=lasting,
        starts_at=str(entry["at"]) if entry.get("at") else None,
        order_id=_order_id(order, labels, message),
        message=str(message) if message is not None else "",
    )


def _identity(name: str, labels: Mapping[str, str]) -> str:
    return name + "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname") + "}"


def redacted(value: Any) -> Any:
    """A notification's JSON with what an alerting system authenticates with (a PagerDuty routing key, a token, a
    password) replaced by "[redacted]": evidence keeps the notification as received, never a credential."""
    if isinstance(value, dict):
        return {k: "[redacted]" if SECRET_FIELDS.search(str(k).lower()) else redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value
