"""Pluggable webhook signing schemes: how a delivery's headers prove who sent it and when.

Two schemes ship, selected by name (``SCHEMES``):

- ``standard-webhooks`` (the twin's, ◆ Bluum does not publish its scheme): headers ``webhook-id``,
  ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``;
  the key is the base64 part of a ``whsec_…`` secret; space-separated signatures are all tried (rotation).
- ``timestamped-hmac`` (Stripe-like): ``Bluum-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>``;
  the key is the secret's UTF-8 bytes as shown; several ``v1=`` entries are all tried.

Both sign and verify the **raw body bytes** (never re-serialized JSON), compare in constant time, and take the
clock (``now``) and the timestamp tolerance as parameters. ``verify`` raises ``SignatureError``; its message
never contains the secret or a signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = [
    "DEFAULT_SCHEME",
    "DEFAULT_TOLERANCE_S",
    "SCHEMES",
    "SignatureError",
    "SigningScheme",
    "StandardWebhooks",
    "TimestampedHmac",
    "scheme",
    "utc_now",
]

DEFAULT_SCHEME = "standard-webhooks"
DEFAULT_TOLERANCE_S = 300.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class SignatureError(ValueError):
    """A delivery's signature headers are missing, malformed, stale or do not match.

    :param reason: a stable short code: ``missing``, ``malformed``, ``mismatch``, ``too-old`` or ``too-new``.
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}")


class SigningScheme(Protocol):
    """How deliveries are signed and verified. Implementations are stateless."""

    @property
    def name(self) -> str:
        """The scheme's name in config (``[webhooks] scheme``)."""
        ...

    def sign(self, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The headers that sign ``body`` (the exact bytes sent) as message ``msg_id`` at ``timestamp`` (unix s)."""
        ...

    def verify(
        self,
        secret: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        now: Callable[[], datetime] = utc_now,
    ) -> int:
        """Check the signature over ``body`` and that its timestamp is within ``tolerance_s`` of ``now()``;
        return the signed timestamp, or raise ``SignatureError``. ``headers`` lookups are case-insensitive
        when given a case-insensitive mapping (Starlette, httpx); plain dicts need lowercase names."""
        ...


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _timestamp(raw: str | None) -> int:
    if raw is None or not raw.strip():
        raise SignatureError("missing", "no signature timestamp")
    try:
        return int(raw.strip())
    except ValueError:
        raise SignatureError("malformed", "the signature timestamp is not whole unix seconds") from None


def _check_window(timestamp: int, tolerance_s: float, now: Callable[[], datetime]) -> None:
    current = now().timestamp()
    if timestamp < current - tolerance_s:
        raise SignatureError("too-old", f"signed more than {tolerance_s:g} s ago")
    if timestamp > current + tolerance_s:
        raise SignatureError("too-new", f"signed more than {tolerance_s:g} s in the future")


def _any_matches(expected: bytes, candidates: list[bytes]) -> bool:
    matched = False
    for candidate in candidates:  # every candidate compared in constant time; no early exit on a match
        matched |= hmac.compare_digest(expected, candidate)
    return matched


@dataclass(frozen=True)
class StandardWebhooks:
    """The Standard Webhooks scheme (https://www.standardwebhooks.com), as the twin signs."""

    name: str = "standard-webhooks"
    prefix: str = "whsec_"

    def key(self, secret: str) -> bytes:
        raw = secret[len(self.prefix) :] if secret.startswith(self.prefix) else secret
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("malformed", "the configured secret is not whsec_<base64>") from None

    def sign(self, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        digest = _hmac(self.key(secret), f"{msg_id}.{int(timestamp)}.".encode() + body)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp)),
            "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
        }

    def verify(
        self,
        secret: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        now: Callable[[], datetime] = utc_now,
    ) -> int:
        msg_id, signature = headers.get("webhook-id"), headers.get("webhook-signature")
        if not msg_id or not signature:
            raise SignatureError("missing", "webhook-id and webhook-signature are required")
        timestamp = _timestamp(headers.get("webhook-timestamp"))
        candidates = [_v1_base64(part) for part in signature.split()]
        valid = [c for c in candidates if c is not None]
        if not valid:
            raise SignatureError("malformed", "webhook-signature holds no 'v1,<base64>' entry")
        _check_window(timestamp, tolerance_s, now)
        expected = _hmac(self.key(secret), f"{msg_id}.{timestamp}.".encode() + body)
        if not _any_matches(expected, valid):
            raise SignatureError("mismatch", "no signature matches the body")
        return timestamp


def _v1_base64(part: str) -> bytes | None:
    version, _, value = part.partition(",")
    if version != "v1" or not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class TimestampedHmac:
    """``Bluum-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`` (a Stripe-like header)."""

    name: str = "timestamped-hmac"
    header: str = "bluum-signature"

    def sign(self, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        digest = _hmac(secret.encode(), f"{int(timestamp)}.".encode() + body)
        return {self.header: f"t={int(timestamp)},v1={digest.hex()}"}

    def verify(
        self,
        secret: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        now: Callable[[], datetime] = utc_now,
    ) -> int:
        value = headers.get(self.header)
        if not value:
            raise SignatureError("missing", f"no {self.header} header")
        pairs = [item.partition("=") for item in value.split(",")]
        stamps = [v for k, sep, v in pairs if k.strip() == "t" and sep]
        if len(stamps) != 1:
            raise SignatureError("malformed", f"{self.header} needs exactly one t=<unix>")
        timestamp = _timestamp(stamps[0])
        candidates = [_hex(v) for k, sep, v in pairs if k.strip() == "v1" and sep]
        valid = [c for c in candidates if c is not None]
        if not valid:
            raise SignatureError("malformed", f"{self.header} holds no v1=<hex> entry")
        _check_window(timestamp, tolerance_s, now)
        expected = _hmac(secret.encode(), f"{timestamp}.".encode() + body)
        if not _any_matches(expected, valid):
            raise SignatureError("mismatch", "no signature matches the body")
        return timestamp


def _hex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        return None


SCHEMES: dict[str, SigningScheme] = {s.name: s for s in (StandardWebhooks(), TimestampedHmac())}


def scheme(name: str) -> SigningScheme:
    """The scheme called ``name``, or a ValueError listing the valid names."""
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown webhook signing scheme {name!r}; valid: {', '.join(sorted(SCHEMES))}") from None
