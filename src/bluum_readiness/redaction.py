"""What a run must never write anywhere, and the one place that takes it out: ``Secrets``.

Every API secret the run holds (the configured pair, each pair a rotation drill or a 401 check hands over) with
its HTTP Basic token, and every webhook signing secret, is added to the run's ``Secrets`` as it appears; every
text that leaves the run — the console, pytest's log, readiness.json and the reports rendered from it, what xdist
workers ship — goes through ``Secrets.scrub`` (or ``scrub`` with the texts). Bluum key ids are not secret, but they
are masked too (``mask_key_ids``), so that a report does not look like a leaked key to the next secret scan.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from bluum_readiness.integration import Credentials

__all__ = ["MIN_SECRET_CHARS", "Secrets", "forms", "mask_key_ids", "scrub"]

#: Shorter texts are not scrubbed (replacing every "ab" would shred a report, and no real secret is that short).
MIN_SECRET_CHARS = 6
_KEY_ID = re.compile(r"\b([a-z]+_bluum_)([0-9a-f]{6})[0-9a-f]{40,}([0-9a-f]{4})\b")


def mask_key_ids(text: str) -> str:
    """``text`` with every Bluum key id shortened to its prefix, first 6 and last 4 hex digits."""
    return _KEY_ID.sub(lambda m: f"{m.group(1)}{m.group(2)}\u2026{m.group(3)}", text)


def _base64_cores(raw: bytes) -> Iterator[str]:
    """The base64 characters that encode ``raw`` wherever it stands in a longer input: base64 works in groups of 3
    bytes, so ``raw`` is encoded one of three ways depending on its offset; for each, the characters whose 6 bits all
    come from ``raw`` (they appear whatever surrounds it: ``base64(secret)``, ``base64("key:" + secret)``, …)."""
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        first = -(-offset * 8 // 6)  # the first character made of ``raw``'s bits only
        last = (offset + len(raw)) * 8 // 6  # after the last one
        core = encoded[first:last]
        if len(core) >= MIN_SECRET_CHARS:
            yield core


@functools.lru_cache(maxsize=1024)
def forms(secret: str) -> tuple[str, ...]:
    """Every way ``secret`` is scrubbed, longest first: as written, as inside a JSON string, URL-encoded (``%XX``, and
    ``+`` for spaces), as hex (lower and upper case) and in base64 (standard and URL-safe, padded or not, at any
    offset in the encoded input). An adapter that logs ``base64(secret)`` or puts the secret in a query string leaks
    it as surely as one that logs it plainly."""
    raw = secret.encode("utf-8")
    found = {
        secret,
        json.dumps(secret)[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        urllib.parse.quote(secret),
        raw.hex(),
        raw.hex().upper(),
    }
    for core in _base64_cores(raw):
        found.add(core)
        found.add(core.replace("+", "-").replace("/", "_"))
    return tuple(sorted((f for f in found if len(f) >= MIN_SECRET_CHARS), key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (of 6+ characters) replaced by ``***`` in each of its ``forms`` (as written, inside
    JSON strings, URL-encoded, hex, base64), and key ids masked."""
    held = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}
    every = sorted({form for secret in held for form in forms(secret)}, key=len, reverse=True)
    for form in every:
        if form in text:
            text = text.replace(form, "***")
    return mask_key_ids(text)


class Secrets:
    """The run's secrets, added as they appear; thread-safe. Iterating gives a snapshot."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._texts: dict[str, None] = {}
        self._lock = threading.Lock()
        self.add(*texts)

    def add(self, *texts: str | None) -> None:
        with self._lock:
            for text in texts:
                if text:
                    self._texts.setdefault(text, None)

    def add_pair(self, pair: Credentials) -> None:
        """A key pair's secret and its HTTP Basic token (the key id is not secret)."""
        self.add(pair.secret, pair.basic_token())

    def scrub(self, text: str) -> str:
        return scrub(text, self)

    def scrub_data(self, data: Any) -> Any:
        """JSON-ready ``data`` with every secret scrubbed from every string in it."""
        return json.loads(self.scrub(json.dumps(data, default=str)))

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._texts))

    def __len__(self) -> int:
        with self._lock:
            return len(self._texts)

    def __contains__(self, text: object) -> bool:
        with self._lock:
            return text in self._texts

    def __getstate__(self) -> dict[str, Any]:  # handed to xdist workers with the run
        return {"texts": list(self)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["texts"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Secrets({len(self)} held)"
