"""Bluum-specific detect-secrets plugins (also usable on their own: ``detect-secrets scan --plugin <this file>``).

- ``BluumSandboxKeyDetector``: sandbox API keys, ``test_bluum_`` followed by 64 hex digits;
- ``BluumSecretDetector``: a 64-hex-digit literal where a Bluum credential is named: on its line
  (``BLUUM_API_SECRET = "<64 hex>"``, ``bluumApiKey: <64 hex>``, next to a ``test_bluum_`` key), on the line it
  continues (``BLUUM_API_SECRET = process.env.X ||`` / ``'<64 hex>'``, ``BLUUM_API_SECRET = (`` / ``"<64 hex>"``,
  a YAML block scalar), or, for a line naming a secret (``apiSecret: <64 hex>``, or YAML ``apiSecret:`` with the
  literal below), on an enclosing key (``bluum:`` / ``const bluum = {``) or a sibling line (``apiKey: test_bluum_…``),
  or, for a ``value:``, on the ``name:`` of its list item (Kubernetes' ``- name: BLUUM_API_SECRET`` / ``value: …``);
- ``BasicAuthorizationDetector``: a literal HTTP Basic credential (``Authorization: Basic <base64>``,
  ``"Basic <base64>"``) whose base64 decodes to ``user:password``;
- ``WebhookSecretDetector``: webhook signing secrets, ``whsec_`` followed by base64.

This module imports only the standard library and detect-secrets: detect-secrets loads it by file path.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Generator
from functools import lru_cache
from typing import Any

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.plugins.base import RegexBasedDetector

__all__ = [
    "BasicAuthorizationDetector",
    "BluumSandboxKeyDetector",
    "BluumSecretDetector",
    "WebhookSecretDetector",
]


_WORDS = r"secret|key|token|passw(?:or)?d|pwd|credential|auth"
_HEX64 = re.compile(r"(?<![0-9A-Za-z_])[0-9a-fA-F]{64}(?![0-9A-Za-z])")
# a line that goes on below: an operator, an opening bracket, an assignment, a YAML block scalar, a backslash
_CONTINUES = re.compile(r"(?:\|\||\?\?|\bor|[=:(\[{,+?\\]|[|>][-+]?)\s*$")
_TRAILING_COMMENT = re.compile(r"\s(?://|#).*$")
_CONTEXT = 5
_NAMES_A_SECRET = re.compile(rf"(?i)^\s*[\w.$\"'-]*(?:{_WORDS})[\w.$\"'-]*\s*(?::=|[:=])")
# an entry of a name/value list (Kubernetes' env): ``- name: BLUUM_API_SECRET`` / ``value: <literal>``
_VALUE_KEY = re.compile(r"(?i)^\s*(?:-\s+)?[\"']?value[\"']?\s*:")
_NAME_ENTRY = re.compile(r"(?i)^\s*(?:-\s+)?[\"']?name[\"']?\s*:\s*[\"']?([\w.-]+)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _key_indent(line: str) -> int:
    """Where a line's key starts: after a YAML list item's dash (``- name: x`` is a key at the dash + 2)."""
    item = re.match(r"\s*-\s+", line)
    return item.end() if item else _indent(line)


def _is_item(line: str) -> bool:
    return re.match(r"\s*-\s", line) is not None


def _names_its_value(line: str) -> bool:
    """A key naming a secret (``apiSecret:``, ``BLUUM_API_SECRET =``) or a list entry's ``value:``."""
    return bool(_NAMES_A_SECRET.search(line) or _VALUE_KEY.search(line))


def _continues(line: str) -> bool:
    return bool(_CONTINUES.search(_TRAILING_COMMENT.sub("", line)))


@lru_cache(maxsize=4)
def _read_lines(filename: str, mtime_ns: int, size: int) -> list[str]:  # the stat fields key the cache
    with open(filename, encoding="utf-8", errors="replace") as handle:
        return handle.read().splitlines()


def _raw_lines(filename: str, line_number: int, literal: str) -> tuple[list[str], int] | None:
    """The file's own lines around ``line_number`` (and its index there) when the file on disk holds ``literal``
    on that line; None otherwise (lines held in memory, e.g. a commit's hunks: their snippet is already raw)."""
    try:
        stat = os.stat(filename)
        lines = _read_lines(filename, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None
    if not 0 < line_number <= len(lines) or literal not in lines[line_number - 1]:
        return None
    start = max(line_number - 1 - _CONTEXT, 0)
    return lines[start : line_number + _CONTEXT], line_number - 1 - start


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

    def analyze_line(
        self, filename: str, line: str, line_number: int = 0, context: Any = None, **kwargs: Any
    ) -> set[PotentialSecret]:
        found: set[PotentialSecret] = super().analyze_line(
            filename=filename, line=line, line_number=line_number, context=context, **kwargs
        )
        if found or context is None or not self._named_nearby(filename, line, line_number, context):
            return found
        return {
            PotentialSecret(type=self.secret_type, filename=filename, secret=match, line_number=line_number)
            for match in RegexBasedDetector.analyze_string(self, line)
        }

    def _named_nearby(self, filename: str, line: str, line_number: int, context: Any) -> bool:
        """The credential's name is on the line this one continues, or (when this line names a secret) on the
        enclosing key or a sibling line of the code snippet detect-secrets passes (five lines either side)."""
        literal = _HEX64.search(line)
        if literal is None:
            return False
        lines = [str(text).rstrip("\r\n") for text in getattr(context, "lines", [])]
        here = getattr(context, "target_index", -1)
        raw = _raw_lines(filename, line_number, literal.group(0))
        if raw is not None:  # detect-secrets' YAML reading flattens keys: judge the file as written
            lines, here = raw
        if not 0 <= here < len(lines):
            return False
        above = [text for text in lines[:here] if text.strip()]
        if above and _continues(above[-1]) and self.names.search(above[-1]):
            return True
        target = lines[here] if literal.group(0) in lines[here] else line
        if not _names_its_value(target):  # the literal alone on its line: the key above (``api_secret:``) names it
            if not (above and _continues(above[-1]) and _names_its_value(above[-1])):
                return False
            target, above = above[-1], above[:-1]
        if not _NAMES_A_SECRET.search(target):  # ``value:``
            return self._named_entry(target, above, lines[here + 1 :])
        indent = _indent(target)
        for text in reversed(above):  # the enclosing keys (blocks they open), passing the siblings on the way
            if _indent(text) < indent:
                if re.search(r"(?i)bluum", text):
                    return True
                if not _continues(text):  # not a key opening this block (e.g. a closing brace)
                    return False
                indent = _indent(text)
            elif indent == _indent(target) and _indent(text) == indent and self.names.search(text):
                return True
        indent = _indent(target)
        for text in lines[here + 1 :]:  # siblings below, until the block ends
            if text.strip() and _indent(text) < indent:
                break
            if _indent(text) == indent and self.names.search(text):
                return True
        return False

    def _named_entry(self, target: str, above: list[str], below: list[str]) -> bool:
        """``value:`` in the same list item as a ``name:`` naming a Bluum credential (Kubernetes' env list)."""
        indent = _key_indent(target)
        item = [target]
        for text in reversed(above):  # up to the item's dash
            if _is_item(item[-1]) or _key_indent(text) != indent:
                break
            item.append(text)
        if not _is_item(item[-1]):
            return False  # not in a list item
        for text in below:  # down to the next item or the end of this one
            if text.strip() and (_indent(text) != indent or _is_item(text)):
                if _indent(text) > indent:
                    continue  # the value's own lines
                break
            item.append(text)
        return any((named := _NAME_ENTRY.match(text)) and self.names.search(named.group(1)) for text in item)


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
