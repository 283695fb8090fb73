"""detect-secrets filters for fewer false alarms and fewer misses (each usable on its own:
``detect-secrets scan --filter file://<this file>::is_label_not_secret``). Measured in docs/secret-scan.md.

``is_label_not_secret`` — the commonest false alarm of the keyword rule, a *label* behind a credential's name:
``const AUTH_KEY = 'bluum_auth_key'`` (a browser-storage item's name), ``SIGNATURE_HEADER = "X-Bluum-Signature"``,
``TokenType.ACCESS = "access_token"``, ``secret_env = "ACME_BLUUM_SECRET"``. The rule sees a variable named like a
secret and a string, but the string names something; it is not a credential. A value is a label when it is

- short (at most ``MAX_CHARS``) and made of at most ``MAX_WORDS`` words, split at ``-_.:/ `` and camelCase;
- every word is letters (a separated part may end in one or two digits: ``v2``, ``oauth2``), and every word of
  three or more letters has a vowel (so ``xkcdqzpt`` is no word);
- at most half the words are shorter than three letters (``X-Api-Key`` is a label, ``aZbYcXdW`` is not);
- of low character entropy (below ``MAX_ENTROPY`` bits a character, measured over the value);

or an environment variable's name (UPPER_SNAKE_CASE with two or more parts: it says where the secret is), or a
reference in code, a dotted path of names (``process.env.BLUUM_API_SECRET!;``), which detect-secrets' eager pass
(an INI reading of a file where nothing else was found) takes for ``key = value``. Real credentials have digits,
mixed case or symbols spread through them (``hunter2-Corr3ct-h0rse``, every API key and token format); what this
lets through is a password made of one or a few dictionary words, a placeholder (``changeme``, ``secret``) more
often than not, sometimes a passphrase. Only the keyword rule is filtered: the Bluum rules and detect-secrets'
format rules (AWS, Stripe, private keys…) never yield a label.

``is_bluum_id`` — a Bluum resource id (``inv_`` + 26 lowercase Crockford base32) names a resource; an entropy or
keyword rule that fires on one is wrong. So does one that fires on an API path naming resources
(``"/v1/investors/inv_…/deposits"``: detect-secrets' base64 alphabet includes ``/``, ``-`` and ``_``), as in a test
fixture or a logged request: every segment a Bluum id or a lowercase word, at least one an id.

``is_labelled_digest`` — a value its own name calls a digest (``"body_sha256": "e3b0…"``, ``checksum = "…"``,
``sha256:<hex>``) is a hash of something, not a credential: the entropy rules fire on every such value, and the
Bluum secret rule (64 hex digits near a Bluum key's name) on the fault proxy's recorded exchanges, where a body's
digest sits beside the key id that sent it.

``is_indirect_reference_of_a_keyword`` — detect-secrets' ``is_indirect_reference`` (``secret = get_secret()``,
``secret = request.headers["apikey"]``) limited to the keyword rule it was written for. As a line filter it drops
every rule's findings on such a line, so a fallback default (``os.environ.get("BLUUM_API_KEY", "test_bluum_…")``,
``getOrDefault("BLUUM_API_SECRET", "<64 hex>")``, the very pattern that leaves keys in history) went unseen. The
scan uses this one instead of detect-secrets' (``scan._detect_secrets``).

This module imports only the standard library: detect-secrets loads it by file path.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

__all__ = [
    "MAX_CHARS",
    "MAX_ENTROPY",
    "MAX_WORDS",
    "is_bluum_id",
    "is_indirect_reference_of_a_keyword",
    "is_label",
    "is_labelled_digest",
    "is_label_not_secret",
    "is_reference",
]

KEYWORD_RULE = "Secret Keyword"
MAX_CHARS = 40
MAX_WORDS = 5
MAX_ENTROPY = 3.9  # bits a character; a label of five words measures about 3.3-3.7, 16 random characters ~4
_SEPARATORS = re.compile(r"[-_.:/ ]+")
_PART = re.compile(r"[A-Za-z]+\d{0,2}")  # digits only at the end of a part: v2, oauth2 (not Corr3ct)
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_INDEX = re.compile(r"""\[\s*["']?([A-Za-z_$][A-Za-z0-9_$]*)["']?\s*\]""")
_TRAILING = "!;,) "
_BLUUM_ID = re.compile(r"[a-z]{2,4}_[0-9a-hjkmnp-tv-z]{26}")
_PATH_WORD = re.compile(r"[a-z][a-z0-9-]{0,40}")  # v1, investors, webhook-deliveries
# detect-secrets' own (filters.heuristic._get_indirect_reference_regex)
_INDIRECT = re.compile(r"([^\v=!:]*)\s*(:=?|[!=]{1,3})\s*([\w.-]+[\[\(][^\v]*[\]\)])")
_OUR_RULES = ("Bluum sandbox API key", "Bluum API secret", "HTTP Basic authorization literal", "Webhook signing secret")


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _words(value: str) -> list[str] | None:
    words: list[str] = []
    for part in _SEPARATORS.split(value.strip("-_.:/ ")):
        if not _PART.fullmatch(part):
            return None  # something other than letters and trailing digits
        words += _CAMEL.findall(part.rstrip("0123456789"))
    return words


def is_label(value: str) -> bool:
    """Whether ``value`` reads as a name (a storage key, a header, an enum member, a variable) — see the module."""
    if _VARIABLE_NAME.fullmatch(value):
        return True
    if not value or len(value) > MAX_CHARS or not value[0].isalpha():
        return False
    words = _words(value)
    if not words or len(words) > MAX_WORDS:
        return False
    if any(len(w) >= 3 and not _VOWEL.search(w) for w in words):
        return False
    if sum(len(w) < 3 for w in words) * 2 > len(words):
        return False
    return _entropy(value) < MAX_ENTROPY


def is_reference(value: str) -> bool:
    """Whether ``value`` is a dotted path of names in code (``process.env.BLUUM_API_SECRET!;``,
    ``os.environ["BLUUM_API_SECRET"]``, ``config.bluum.apiSecret``): it says where a secret is, not what."""
    parts = _INDEX.sub(lambda m: "." + m.group(1), value.rstrip(_TRAILING)).split(".")
    return len(parts) >= 2 and all(_IDENTIFIER.fullmatch(p) and _is_name(p.strip("_$")) for p in parts)


def _is_name(part: str) -> bool:
    return (part.isalpha() and len(part) <= 3) or is_label(part)  # os, env, db: too short for is_label


def is_label_not_secret(secret: str, plugin: Any = None) -> bool:
    """detect-secrets filter: True (drop it) when the keyword rule's value is a label or a reference, not a
    credential."""
    return getattr(plugin, "secret_type", None) == KEYWORD_RULE and (is_label(secret) or is_reference(secret))


def is_bluum_id(secret: str, plugin: Any = None) -> bool:
    """detect-secrets filter: True (drop it) for a Bluum resource id (``inv_…``, ``apk_…``) or an API path naming
    some (``/v1/investors/inv_…/deposits``), found by any rule but ours."""
    if getattr(plugin, "secret_type", None) in _OUR_RULES:
        return False
    if _BLUUM_ID.fullmatch(secret):
        return True
    # the value as the rule took it: detect-secrets' reading of a line as `key = value` can leave an escape on it
    value = secret.strip("\\\"' ")
    segments = value.strip("/").split("/") if "/" in value else []
    ids = sum(1 for segment in segments if _BLUUM_ID.fullmatch(segment))
    return ids > 0 and all(_BLUUM_ID.fullmatch(x) or _PATH_WORD.fullmatch(x) for x in segments)


_DIGEST = r"sha-?(?:1|224|256|384|512)|md5|digest|checksum|hash|integrity"
_DIGEST_LABEL = re.compile(
    rf"(?i)(?:[\w.-]*(?:{_DIGEST})[\w-]*\\?[\"']?\s*[:=]\s*\\?[\"']?(?:sha-?(?:256|512)[:-])?|sha-?(?:1|256|512)[:-])$"
)


def is_labelled_digest(secret: str, line: str, plugin: Any = None) -> bool:
    """detect-secrets filter: True (drop it) when the value's own label on the line calls it a digest
    (``"body_sha256": "<hex>"``, ``checksum = '<hex>'``, ``sha256:<hex>``), whatever rule found it — also in the
    escaped form detect-secrets' eager ``key = value`` reading of a JSON line gives it (``\\"body_sha256\\": \\"``)."""
    if len(line) > 100_000:
        return False
    start = line.find(secret)
    while start != -1:
        if not _DIGEST_LABEL.search(line[max(0, start - 80) : start]):
            return False  # one occurrence that is not labelled a digest is enough to keep it
        start = line.find(secret, start + 1)
    return secret in line


def is_indirect_reference_of_a_keyword(secret: str, line: str, plugin: Any = None) -> bool:
    """detect-secrets filter: True (drop it) for a keyword-rule value on a line that reads the secret from
    somewhere (``secret = get_secret_key()``), as detect-secrets' ``is_indirect_reference`` — for that rule only."""
    if getattr(plugin, "secret_type", None) != KEYWORD_RULE or len(line) > 1000:
        return False
    return bool(_INDIRECT.search(line))
