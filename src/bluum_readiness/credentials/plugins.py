"""Bluum-specific detect-secrets plugins (also usable on their own: ``detect-secrets scan --plugin <this file>``).

- ``BluumSandboxKeyDetector``: sandbox API keys, ``test_bluum_`` followed by 64 hex digits;
- ``BluumSecretDetector``: a 64-hex-digit literal on a line that names a Bluum credential
  (``BLUUM_API_SECRET = "<64 hex>"``, ``bluumApiKey: <64 hex>``, next to a ``test_bluum_`` key);
- ``BasicAuthorizationDetector``: a literal HTTP Basic credential (``Authorization: Basic <base64>``,
  ``"Basic <base64>"``) whose base64 decodes to ``user:password``;
- ``WebhookSecretDetector``: webhook signing secrets, ``whsec_`` followed by base64.

This module imports only the standard library and detect-secrets: detect-secrets loads it by file path.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Generator

from detect_secrets.plugins.base import RegexBasedDetector

__all__ = [
    "BasicAuthorizationDetector",
    "BluumSandboxKeyDetector",
    "BluumSecretDetector",
    "WebhookSecretDetector",
]


_WORDS = r"secret|key|token|passw(?:or)?d|pwd|credential|auth"


class BluumSandboxKeyDetector(RegexBasedDetector):
    """A Bluum sandbox API key: ``test_bluum_`` + 64 hex digits."""

    secret_type = "Bluum sandbox API key"  # pragma: allowlist secret
    denylist = (re.compile(r"(?<![A-Za-z0-9_])(test_bluum_[0-9a-fA-F]{64})(?![0-9A-Za-z])"),)


class BluumSecretDetector(RegexBasedDetector):
    """A 64-hex-digit literal (the shape of a Bluum API secret) on a line that names a Bluum credential."""

    secret_type = "Bluum API secret"  # pragma: allowlist secret
    denylist = (re.compile(r"(?<![0-9A-Za-z_])([0-9a-fA-F]{64})(?![0-9A-Za-z])"),)
    names = re.compile(rf"(?i)test_bluum_|bluum[\w.-]{{0,40}}?(?:{_WORDS})|(?:{_WORDS})[\w.-]{{0,40}}?bluum")

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        if self.names.search(string):
            yield from super().analyze_string(string)


class BasicAuthorizationDetector(RegexBasedDetector):
    """A literal HTTP Basic credential: ``Authorization: Basic <base64 of user:password>`` or ``"Basic <…>"``."""

    secret_type = "HTTP Basic authorization literal"  # pragma: allowlist secret
    denylist = (
        re.compile(r"(?i)authorization[\"']?\s*[:=,]\s*[\"']?basic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])"),
        re.compile(r"[\"'`]Basic\s+([A-Za-z0-9+/]{8,}={0,2})[\"'`]"),
    )

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for token in dict.fromkeys(super().analyze_string(string)):
            if _is_user_password(token):
                yield token


class WebhookSecretDetector(RegexBasedDetector):
    """A webhook signing secret: ``whsec_`` + base64 (Standard Webhooks, Svix, Stripe)."""

    secret_type = "Webhook signing secret"  # pragma: allowlist secret
    denylist = (re.compile(r"(?<![A-Za-z0-9_])(whsec_[A-Za-z0-9+/_-]{16,}={0,2})"),)


def _is_user_password(token: str) -> bool:
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep and user and password and decoded.isprintable())
