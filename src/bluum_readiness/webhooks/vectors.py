"""Webhook test vectors: valid and invalid signed deliveries with the outcome a correct receiver gives.

The same case builders serve two users:

- the ``webhooks`` checks send ``signature_cases`` and ``timestamp_cases`` with the real secret and clock;
- ``vectors.json`` (next to this module; regenerate with ``python -m bluum_readiness.webhooks.vectors``) holds
  them with a fixed secret, clock and ids, for teams to replay against their own receiver in unit tests
  (docs/webhook-vectors.md).
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bluum_readiness.webhooks.sender import Delivery, WebhookSender
from bluum_readiness.webhooks.signing import SCHEMES, SigningScheme

__all__ = [
    "FIXED_NOW",
    "FIXED_SECRET",
    "VECTORS_FILE",
    "Case",
    "build_vectors",
    "load_vectors",
    "signature_cases",
    "signing_headers",
    "timestamp_cases",
]

VECTORS_FILE = Path(__file__).with_name("vectors.json")
FIXED_SECRET = "whsec_" + base64.b64encode(bytes(range(24))).decode()
"""A published, fake secret: never use it for a real webhook."""
FIXED_NOW = datetime(2026, 1, 1, tzinfo=UTC)
WRONG_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 124))).decode()


@dataclass(frozen=True)
class Case:
    """One delivery and what a correct receiver does with it: ``accept`` (2xx, one effect) or ``reject``
    (4xx, no effect); ``reason`` is the ``SignatureError`` reason a verifier raises."""

    name: str
    description: str
    delivery: Delivery
    expect: str
    reason: str | None = None


def signing_headers(scheme: SigningScheme) -> set[str]:
    """The header names ``scheme`` signs with."""
    return set(scheme.sign(FIXED_SECRET, "evt_x", 0, b"{}"))


def signature_cases(sender: WebhookSender, *, ids: list[str] | None = None) -> list[Case]:
    """A valid delivery, then one broken field each: missing, malformed, wrong secret, tampered body, and a
    signature lifted from another delivery. Every case is a distinct event (``ids``, else fresh ids)."""
    names = iter(ids or [None] * 7)  # type: ignore[list-item]
    make = sender.delivery
    headers = signing_headers(sender.scheme)
    valid = make(event_id=next(names), data={"id": "ord_VALID", "status": "filled"}, label="valid")
    base = make(event_id=next(names), data={"id": "ord_MISSING", "status": "filled"})
    broken = make(event_id=next(names), data={"id": "ord_MALFORMED", "status": "filled"})
    wrong = make(event_id=next(names), data={"id": "ord_WRONGSECRET", "status": "filled"}, secret=WRONG_SECRET)
    tampered = make(event_id=next(names), data={"id": "ord_TAMPERED", "status": "filled"})
    donor = make(event_id=next(names), data={"id": "ord_DONOR", "status": "filled"})
    target = make(event_id=next(names), data={"id": "ord_TARGET", "status": "filled"})
    lifted = {k: v for k, v in donor.headers.items() if k in headers}
    return [
        Case("valid", "a correctly signed delivery", valid, "accept"),
        Case(
            "missing-signature",
            "no signature headers at all",
            base.without("missing-signature", *headers),
            "reject",
            "missing",
        ),  # fmt: skip
        Case(
            "malformed-signature",
            "signature headers that do not parse",
            broken.with_headers(
                "malformed-signature",
                **{h.replace("-", "_"): "malformed" for h in headers if h not in ("webhook-id", "webhook-timestamp")},
            ),
            "reject",
            "malformed",
        ),  # fmt: skip
        Case(
            "wrong-secret",
            "signed with another webhook's secret",
            wrong.with_headers("wrong-secret"),
            "reject",
            "mismatch",
        ),  # fmt: skip
        Case(
            "tampered-body",
            "the body changed after signing (status filled -> canceled)",
            tampered.with_body("tampered-body", tampered.body.replace(b'"filled"', b'"canceled"')),
            "reject",
            "mismatch",
        ),  # fmt: skip
        Case(
            "signature-from-another-delivery",
            "a valid signature of another delivery on this body",
            target.with_headers(
                "signature-from-another-delivery", **{k.replace("-", "_"): v for k, v in lifted.items()}
            ),
            "reject",
            "mismatch",
        ),  # fmt: skip
    ]


def timestamp_cases(sender: WebhookSender, tolerance_s: float, *, ids: list[str] | None = None) -> list[Case]:
    """Correctly signed deliveries whose timestamps are outside the tolerance: 1.5× in the past and in the
    future (a window twice as wide as meant accepts them) and a day old."""
    names = iter(ids or [None] * 3)  # type: ignore[list-item]
    wide = 1.5 * tolerance_s
    return [
        Case(
            "stale-timestamp",
            f"signed {wide:g} s ago (tolerance {tolerance_s:g} s)",
            sender.delivery(
                event_id=next(names),
                offset_s=-wide,
                label="stale-timestamp",
                data={"id": "ord_STALE", "status": "filled"},
            ),
            "reject",
            "too-old",
        ),  # fmt: skip
        Case(
            "future-timestamp",
            f"signed {wide:g} s in the future (tolerance {tolerance_s:g} s)",
            sender.delivery(
                event_id=next(names),
                offset_s=wide,
                label="future-timestamp",
                data={"id": "ord_FUTURE", "status": "filled"},
            ),
            "reject",
            "too-new",
        ),  # fmt: skip
        Case(
            "day-old-timestamp",
            "signed a day ago",
            sender.delivery(
                event_id=next(names),
                offset_s=-86400,
                label="day-old-timestamp",
                data={"id": "ord_DAYOLD", "status": "filled"},
            ),
            "reject",
            "too-old",
        ),  # fmt: skip
    ]


def replay_case(sender: WebhookSender, accepted: Delivery, tolerance_s: float) -> Case:
    """The event of an already ``accepted`` delivery, as an attacker who captured it earlier would re-send it:
    its original, correctly signed copy from 1.5× the tolerance ago."""
    event = json.loads(accepted.body)
    old = sender.delivery(event["event"], event["data"], event_id=accepted.event_id, offset_s=-1.5 * tolerance_s,
                          label="replay-of-old-delivery")  # fmt: skip
    return Case("replay-of-old-delivery", "a captured old copy of an accepted event, re-sent", old, "reject",
                "too-old")  # fmt: skip


def _fixed_sender(scheme: SigningScheme) -> WebhookSender:
    return WebhookSender("https://127.0.0.1/unused", lambda: FIXED_SECRET, scheme, now=lambda: FIXED_NOW)


def build_vectors(tolerance_s: float = 300.0) -> dict[str, Any]:
    """Every case, for every scheme, with the fixed secret, clock and ids (deterministic)."""
    vectors: list[dict[str, Any]] = []
    for name, scheme in sorted(SCHEMES.items()):
        sender = _fixed_sender(scheme)
        try:
            ids = [f"evt_{name[:2].upper()}{i:024d}" for i in range(10)]
            cases = signature_cases(sender, ids=ids[:7]) + timestamp_cases(sender, tolerance_s, ids=ids[7:])
            cases.append(replay_case(sender, cases[0].delivery, tolerance_s))
        finally:
            sender.close()
        vectors += [_vector(name, case) for case in cases]
    return {
        "description": "Bluum webhook test vectors (bluum-readiness); see docs/webhook-vectors.md",
        "secret": FIXED_SECRET,
        "now": int(FIXED_NOW.timestamp()),
        "tolerance_s": tolerance_s,
        "vectors": vectors,
    }


def _vector(scheme: str, case: Case) -> dict[str, Any]:
    headers = {k: v for k, v in case.delivery.headers.items() if k != "user-agent"}
    return {
        "name": f"{scheme}/{case.name}",
        "scheme": scheme,
        "description": case.description,
        "headers": headers,
        "body": case.delivery.body.decode(),
        "expected": {
            "status": "2xx" if case.expect == "accept" else "4xx",
            "effect": case.expect == "accept",
            "reason": case.reason,
        },  # fmt: skip
        **({"after": f"{scheme}/valid"} if case.name == "replay-of-old-delivery" else {}),
    }


def load_vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return data


def main() -> None:
    """Regenerate vectors.json (``python -m bluum_readiness.webhooks.vectors``)."""
    text = json.dumps(build_vectors(), indent=2) + "\n"
    if sys.argv[1:] == ["--check"]:
        raise SystemExit(0 if VECTORS_FILE.read_text(encoding="utf-8") == text else 1)
    VECTORS_FILE.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
