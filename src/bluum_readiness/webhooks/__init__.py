"""Webhooks: signing schemes, the suite's sender, the reference receiver, a local CA, and test vectors.

signing.py    SigningScheme, "standard-webhooks" and "timestamped-hmac", SignatureError
sender.py     WebhookSender, Delivery, Attempt: build, sign, send and record deliveries
receiver.py   ReferenceReceiver: verifying, deduplicating HTTPS receiver (the reference integration's)
tls.py        LocalCA, shared_local_tls: certificates for local receivers (trustme); serve_deliveries: an
              HTTPS endpoint of the suite's own for the twin's deliveries
vectors.py    the shared webhook test vectors (vectors.json) and the cases the checks send
"""

from __future__ import annotations

from bluum_readiness.webhooks.receiver import PATH, ReferenceReceiver
from bluum_readiness.webhooks.sender import Attempt, Delivery, WebhookSender, event_payload, new_event_id
from bluum_readiness.webhooks.signing import (
    DEFAULT_SCHEME,
    DEFAULT_TOLERANCE_S,
    SCHEMES,
    SignatureError,
    SigningScheme,
    StandardWebhooks,
    TimestampedHmac,
    scheme,
)
from bluum_readiness.webhooks.tls import LocalCA, LocalTLS, shared_local_tls

__all__ = [
    "Attempt",
    "DEFAULT_SCHEME",
    "DEFAULT_TOLERANCE_S",
    "Delivery",
    "LocalCA",
    "LocalTLS",
    "PATH",
    "ReferenceReceiver",
    "SCHEMES",
    "SignatureError",
    "SigningScheme",
    "StandardWebhooks",
    "TimestampedHmac",
    "WebhookSender",
    "event_payload",
    "new_event_id",
    "scheme",
    "shared_local_tls",
]
