"""What the alert checks share: the ``watch`` fact each alert scenario records (what was watched, what arrived
when, and the notifications that carried it) and the verdict over it — no alert of the kind in normal weather
(``_false_alarm``), then one once its cause is in place within ``alert_timeout_s`` (``no_alert``), starting after
that cause."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bluum_readiness.checks._alert_sources import ADAPTER, LISTENER, AlertSources, Mark
from bluum_readiness.checks.judge import Finding, Passed, Verdict

FALSE_ALARM_FIX = "fire {kind} only when its cause is there: an alert that always fires is ignored"
PIPELINE_TIMING = (
    "; through an alerting pipeline the rule's window, its `for:`, the evaluation interval and Alertmanager's "
    "group_wait must together let the notification arrive within alert_timeout_s = {timeout:g} s (docs/alerts.md)"
)


def watch_fact(
    src: AlertSources,
    *,
    normal: str,
    cause: str,
    settled: list[dict[str, Any]],
    false_alarms: list[dict[str, Any]],
    fired: list[dict[str, Any]],
    since: Mark | None,
    **more: Any,
) -> dict[str, Any]:
    """The fact an alert judge reads: what was watched, what arrived when, and the notifications that carried it."""
    adapter = src.adapter() if src.adapter is not None else []
    return {
        "kind": src.kind,
        "sources": src.names,
        "expected": src.expected,
        "normal": normal,
        "cause": cause,
        "still_firing": settled,
        "false_alarms": false_alarms,
        "fired": fired,
        "timeout_s": src.h.thresholds.alert_timeout_s,
        "cause_at": since.at if since is not None else None,
        "quiet_s": src.quiet_s if src.feed is not None else None,
        "resolve_timeout_s": src.resolve_timeout_s if src.feed is not None else None,
        "adapter_alerts": {"count": len(adapter), "kinds": sorted({str(a.get("kind")) for a in adapter})},
        "received": src.others(since) if since is not None else [],
        "rejected": src.rejected(since)[-10:] if since is not None else [],
        "notifications": src.notifications([*settled, *false_alarms, *fired]),
        **more,
    }


def shown_alerts(alerts: Sequence[dict[str, Any]]) -> str:
    """Alerts as a finding names them: "AcmeBluumHigh5xx (alerting pipeline, firing)", "elevated_5xx (alerts())";
    the same alert received again is counted, not repeated ("3 × elevated_5xx (alerts())")."""
    counts: dict[str, int] = {}
    for a in alerts:
        status = f", {a['status']}" if a.get("status") else ""
        label = f"{a.get('name') or a.get('kind')} ({a.get('source')}{status})"
        counts[label] = counts.get(label, 0) + 1
    parts = [label if n == 1 else f"{n} × {label}" for label, n in list(counts.items())[:3]]
    return ", ".join(parts) + (f" and {len(counts) - 3} more" if len(counts) > 3 else "")


def alert_evidence(w: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("sources", "expected", "cause", "fired", "false_alarms", "still_firing", "received", "rejected")
    return {"alerts": {k: w[k] for k in keys if w.get(k) not in (None, [])}, "notifications": w["notifications"]}


def named_alert(w: Mapping[str, Any]) -> str:
    return f"{w['expected']} ({w['kind']})" if w["expected"] else repr(w["kind"])


def _false_alarm(w: Mapping[str, Any]) -> Finding | None:
    """A finding when an alert of the kind fired without its cause (before the cause was brought on)."""
    fix = FALSE_ALARM_FIX.format(kind=w["kind"])
    if w["still_firing"]:
        return Finding(
            "alert-false-alarm",
            f"no {named_alert(w)} alert firing before its cause",
            f"{shown_alerts(w['still_firing'])} still firing {w['resolve_timeout_s']:g} s after the check began, "
            "before it brought on any cause (an alert of this kind from earlier in the run must resolve within "
            "[alerts] resolve_timeout_s)",
            fix + "; and let it resolve when its cause ends (Alertmanager: send_resolved: true)",
            evidence=alert_evidence(w),
        )
    if w["false_alarms"]:
        return Finding(
            "alert-false-alarm",
            f"no {named_alert(w)} alert during {w['normal']}",
            f"{shown_alerts(w['false_alarms'])} arrived during it",
            fix,
            evidence=alert_evidence(w),
        )
    return None


def no_alert(w: Mapping[str, Any], fix: str) -> Finding:
    """The finding of an alert that never arrived, naming the alert expected and what each source held."""
    timeout = w["timeout_s"]
    observed = []
    if LISTENER in w["sources"]:
        received = w["received"]
        got = f"the listener received {', '.join(received[:5])}" if received else "the listener received nothing"
        rejected = w.get("rejected") or []
        if rejected:
            got += f"; it rejected {len(rejected)} notification(s): {rejected[-1]['error']}"
        observed.append(f"no {w['expected']} notification within {timeout:g} s of {w['cause']} ({got})")
    if ADAPTER in w["sources"]:
        held = w["adapter_alerts"]
        observed.append(f"no such alert; alerts() holds {held['count']} alert(s) of kinds {held['kinds']}")
    thresholds = (
        f" (the suite waits alert_timeout_s = {timeout:g} s: the adapter you hand it needs alert thresholds below "
        "that, e.g. a factory parameter for tests"
        + (PIPELINE_TIMING.format(timeout=timeout) if LISTENER in w["sources"] else "")
        + ")"
    )
    return Finding(
        "alert-missing",
        f"a {named_alert(w)} alert within {timeout:g} s of {w['cause']}",
        "; ".join(observed),
        fix + thresholds,
        evidence=alert_evidence(w),
    )


STARTS_AT_TOLERANCE_S = 0.5
"""How much earlier than the cause an alert's own start time (Alertmanager's and Grafana's ``startsAt``) may be
before the alert counts as having started without it: clocks of the alerting system and the suite differ a little."""


def _started(alert: Mapping[str, Any]) -> float | None:
    """An alert's ``starts_at`` in seconds since the epoch (nanoseconds cut to micro), or None."""
    text = alert.get("starts_at")
    if not isinstance(text, str):
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None and moment.year > 1 else None


def alert_verdict(w: Mapping[str, Any], fix: str) -> Verdict:
    found = _false_alarm(w)
    if found is not None:
        return found
    if not w["fired"]:
        return no_alert(w, fix)
    cause_at = w.get("cause_at")
    starts = [_started(a) for a in w["fired"]]
    if cause_at is not None and all(t is not None and t < cause_at - STARTS_AT_TOLERANCE_S for t in starts):
        began = min(t for t in starts if t is not None)
        return Finding(
            "alert-false-alarm",
            f"a {named_alert(w)} alert that starts after {w['cause']}, not before",
            f"{shown_alerts(w['fired'])} started {cause_at - began:.1f} s before it (at "
            f"{datetime.fromtimestamp(began, UTC).isoformat(timespec='seconds')}): it fired during {w['normal']} "
            "and its notification arrived after the quiet watch",
            FALSE_ALARM_FIX.format(kind=w["kind"]) + "; raise [alerts] quiet_s to see such alarms in the quiet watch",
            evidence=alert_evidence(w),
        )
    return Passed(alert_evidence(w))
