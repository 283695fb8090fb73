"""Bluum ids: ``<prefix>_<26 lowercase Crockford base32>`` (ULID-like: 48-bit time, 80 random bits)."""

from __future__ import annotations

import random
import re
import secrets
import time

__all__ = ["IdGenerator", "PREFIXES", "is_id", "looks_like_uuid"]

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
PREFIXES = frozenset(
    {"inv", "fs", "dep", "wd", "ord", "pos", "doc", "wh", "apk", "wlt", "txn", "evt", "req", "ten", "led", "dlv"}
)
_ID_RE = re.compile(r"^([a-z]+)_([0-9a-hjkmnp-tv-z]{26})$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class IdGenerator:
    """Makes prefixed, time-ordered ids (their random part seeded for reproducible runs, OS randomness
    otherwise) and secrets.

    Secrets and tokens (``token_hex``, ``token_bytes``: key pairs, webhook signing secrets, reference codes,
    account numbers) always come from the OS CSPRNG (``secrets``), seed or not: a seeded generator replays its
    sequence in every process, so seeded secrets would repeat after a restart on the same database.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None

    def _random_bits(self, bits: int) -> int:
        if self._rng is not None:
            return self._rng.getrandbits(bits)
        return secrets.randbits(bits)

    def new(self, prefix: str) -> str:
        if prefix not in PREFIXES:
            raise ValueError(f"unknown id prefix {prefix!r}; known prefixes: {', '.join(sorted(PREFIXES))}")
        millis = int(time.time() * 1000) & ((1 << 48) - 1)
        return f"{prefix}_{_encode((millis << 80) | self._random_bits(80), 26)}"

    def token_hex(self, nbytes: int) -> str:
        """A random hex string from the CSPRNG, never from the seed (API keys, secrets, reference codes)."""
        return secrets.token_hex(nbytes)

    def token_bytes(self, nbytes: int) -> bytes:
        """Random bytes from the CSPRNG, never from the seed (webhook signing secrets)."""
        return secrets.token_bytes(nbytes)


def is_id(value: str, prefix: str) -> bool:
    """True when ``value`` is a well-formed id with the given prefix."""
    m = _ID_RE.match(value)
    return bool(m and m.group(1) == prefix)


def looks_like_uuid(value: str) -> bool:
    """True for a raw UUID (with or without dashes), which Bluum rejects where a prefixed id is expected."""
    return bool(_UUID_RE.match(value))
