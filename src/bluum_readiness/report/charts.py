"""Inline SVG charts (no scripts, no external references) shared by the HTML and PDF reports.

- ``backoff_chart``: the waits before each retry, per trial, on a log scale, against the allowed envelope (above
  zero — retries must wait — and under the configured cap, ``max_backoff_s``), with the per-retry mean.
- ``latency_chart``: the distribution of webhook acknowledgement latencies (log-spaced histogram) against the
  p95 threshold.

Each takes the report and returns ``Chart`` (title, SVG text, a one-line caption) or None when the run holds no
such evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

__all__ = ["Chart", "backoff_chart", "backoff_series", "charts", "latency_chart", "latency_samples"]

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 24, 44
PALETTE = ("#2563eb", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#0d9488", "#9333ea")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str
    caption: str


@dataclass(frozen=True)
class BackoffSeries:
    check_id: str
    status: str
    trials: list[list[float]]  # seconds waited before retry 1, 2, ... in each trial
    cap_s: float


def backoff_series(document: dict[str, Any]) -> list[BackoffSeries]:
    """The backoff waits the error-handling checks recorded (``evidence.backoff`` or a failure's ``waits_s``)."""
    found = []
    for item in document["items"]:
        for check in item["checks"]:
            evidence = check.get("evidence") or {}
            backoff = evidence.get("backoff") or {}
            trials = backoff.get("waits_s") or evidence.get("waits_s")
            if not trials or not any(trials):
                continue
            cap = float(backoff.get("max_backoff_s") or 30.0)
            clean = [[float(w) for w in trial] for trial in trials if trial]
            found.append(BackoffSeries(check["id"], check["status"], clean, cap))
    return found


def latency_samples(document: dict[str, Any]) -> tuple[list[float], float | None]:
    """Acknowledgement latencies (ms) of the webhook deliveries the receiver accepted, and the p95 threshold (s)."""
    samples: list[float] = []
    threshold: float | None = None
    for item in document["items"]:
        for check in item["checks"]:
            evidence = check.get("evidence") or {}
            latency = evidence.get("latency") or {}
            if latency.get("threshold_s") is not None:
                threshold = float(latency["threshold_s"])
            for delivery in evidence.get("deliveries") or []:
                status = delivery.get("status")
                if isinstance(delivery, dict) and isinstance(status, int) and 200 <= status < 300:
                    if delivery.get("latency_ms") is not None:
                        samples.append(float(delivery["latency_ms"]))
    return sorted(samples), threshold


def _log_ticks(low: float, high: float) -> list[float]:
    return [10.0**e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]


def _ms_label(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


def _frame(title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-family="Helvetica, Arial, sans-serif" font-size="11">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>' + "".join(body) + "</svg>"
    )


def backoff_chart(document: dict[str, Any]) -> Chart | None:
    series = backoff_series(document)
    if not series:
        return None
    waits_ms = [w * 1000 for s in series for t in s.trials for w in t if w > 0]
    cap_ms = max(s.cap_s for s in series) * 1000
    low = max(min(waits_ms, default=1.0) / 2, 0.1)
    high = cap_ms * 2
    ticks = [t for t in _log_ticks(low, high) if low <= t <= high]
    retries = max(len(t) for s in series for t in s.trials)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    groups = len(series)

    def y(ms: float) -> float:
        ms = min(max(ms, low), high)
        return TOP + plot_h * (1 - (math.log10(ms) - math.log10(low)) / (math.log10(high) - math.log10(low)))

    def x(retry: int, group: int) -> float:
        slot = plot_w / retries
        return LEFT + slot * retry + slot * (group + 1) / (groups + 1)

    body = [
        # the allowed envelope: more than zero, at most the cap
        f'<rect x="{LEFT}" y="{y(cap_ms):.1f}" width="{plot_w}" height="{y(low) - y(cap_ms):.1f}" '
        'fill="#dcfce7" opacity="0.6"/>',
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(cap_ms):.1f}" y2="{y(cap_ms):.1f}" stroke="#dc2626" '
        'stroke-dasharray="6 4" stroke-width="1.5"/>',
        f'<text x="{LEFT + plot_w - 4}" y="{y(cap_ms) - 5:.1f}" text-anchor="end" fill="#dc2626">'
        f"cap: no wait over {_ms_label(cap_ms)}</text>",
    ]
    for tick in ticks:
        body.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#374151">{_ms_label(tick)}</text>'
        )
    for retry in range(retries):
        cx = LEFT + plot_w / retries * (retry + 0.5)
        body.append(
            f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="#374151">'
            f"before retry {retry + 1}</text>"
        )
    for group, s in enumerate(series):
        colour = PALETTE[group % len(PALETTE)]
        means = []
        for retry in range(retries):
            values = [t[retry] * 1000 for t in s.trials if len(t) > retry]
            for trial, value in enumerate(values):
                spread = (trial - (len(values) - 1) / 2) * min(3.0, 24 / max(len(values), 1))
                body.append(
                    f'<circle cx="{x(retry, group) + spread:.1f}" cy="{y(value):.1f}" r="2.6" fill="{colour}" '
                    'fill-opacity="0.55"/>'
                )
            if values:
                means.append((x(retry, group), y(sum(values) / len(values))))
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in means)
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for px, py in means:
            body.append(
                f'<line x1="{px - 14:.1f}" x2="{px + 14:.1f}" y1="{py:.1f}" y2="{py:.1f}" stroke="{colour}" '
                'stroke-width="3"/>'
            )
        label = s.check_id.split(".", 1)[-1] + ("" if s.status == "passed" else f" ({s.status})")
        body.append(
            f'<rect x="{LEFT + 8 + 185 * group}" y="{HEIGHT - 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{LEFT + 22 + 185 * group}" y="{HEIGHT - 7}" fill="#111827">{escape(label)}</text>'
        )
    body.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#6b7280"/>'
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#6b7280"/>'
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})" '
        'text-anchor="middle" fill="#374151">wait (log scale)</text>'
    )
    trials = sum(len(s.trials) for s in series)
    caption = (
        f"Waits before each retry in {trials} trials (dots, one per trial; bars: the mean per retry). "
        f"Allowed: every wait above zero and at most the cap ({_ms_label(cap_ms)}, green band); "
        "growth: the mean before retry 3 at least 1.4x the mean before retry 1."
    )
    title = "Backoff: waits per retry against the allowed envelope"
    return Chart("backoff", title, _frame(title, body), caption)


def latency_chart(document: dict[str, Any]) -> Chart | None:
    samples, threshold = latency_samples(document)
    if not samples:
        return None
    threshold_ms = (threshold or 5.0) * 1000
    low = 10.0 ** math.floor(math.log10(max(min(samples), 0.01)))
    high = 10.0 ** math.ceil(math.log10(max(max(samples), threshold_ms) * 1.01))
    per_decade = 4
    edges = [low * 10 ** (i / per_decade) for i in range(int(round(math.log10(high / low))) * per_decade + 1)]
    counts = [sum(1 for s in samples if a <= s < b) for a, b in zip(edges, edges[1:], strict=False)]
    counts[-1] += sum(1 for s in samples if s >= edges[-1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max(counts) or 1

    def x(ms: float) -> float:
        return LEFT + plot_w * (math.log10(ms) - math.log10(low)) / (math.log10(high) - math.log10(low))

    def y(count: float) -> float:
        return TOP + plot_h * (1 - count / (peak * 1.15))

    body = []
    for step in range(0, peak + 1, max(1, peak // 4)):
        body.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(step):.1f}" y2="{y(step):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 6}" y="{y(step) + 4:.1f}" text-anchor="end" fill="#374151">{step}</text>'
        )
    for a, b, count in zip(edges, edges[1:], counts, strict=False):
        if count:
            body.append(
                f'<rect x="{x(a) + 1:.1f}" y="{y(count):.1f}" width="{x(b) - x(a) - 2:.1f}" '
                f'height="{y(0) - y(count):.1f}" fill="#2563eb"/>'
            )
    for tick in _log_ticks(low, high):
        body.append(
            f'<text x="{x(tick):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" fill="#374151">'
            f"{_ms_label(tick)}</text>"
        )
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    body += [
        f'<line x1="{x(threshold_ms):.1f}" x2="{x(threshold_ms):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
        'stroke="#dc2626" stroke-dasharray="6 4" stroke-width="1.5"/>',
        f'<text x="{x(threshold_ms) - 4:.1f}" y="{TOP + 12}" text-anchor="end" fill="#dc2626">'
        f"p95 threshold {_ms_label(threshold_ms)}</text>",
        f'<line x1="{x(p95):.1f}" x2="{x(p95):.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#059669" '
        'stroke-width="1.5"/>',
        f'<text x="{x(p95) + 4:.1f}" y="{TOP + 26}" fill="#059669">p95 {p95:.1f} ms</text>',
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#6b7280"/>'
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#6b7280"/>',
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" fill="#374151">'
        "acknowledgement latency (log scale)</text>",
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})" '
        'text-anchor="middle" fill="#374151">deliveries</text>',
    ]
    caption = (
        f"{len(samples)} accepted webhook deliveries: median {ordered[len(ordered) // 2]:.1f} ms, p95 {p95:.1f} ms, "
        f"slowest {ordered[-1]:.1f} ms; the receiver must acknowledge with 2xx with p95 under "
        f"{_ms_label(threshold_ms)}."
    )
    title = "Webhook acknowledgement latency"
    return Chart("latency", title, _frame(title, body), caption)


def charts(document: dict[str, Any]) -> list[Chart]:
    return [c for c in (backoff_chart(document), latency_chart(document)) if c is not None]
