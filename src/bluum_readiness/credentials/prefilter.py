"""Which lines of a file (or of a commit's hunks) any configured detect-secrets plugin could report — found over the
whole text at once, so detect-secrets' per-line, per-plugin pipeline (~0.3 ms a line) runs only on those.

For each plugin a *gate*: a condition every line the plugin reports on meets — a literal every match holds
(``test_bluum_``, ``AKIA``, a keyword of the keyword rule), a run of token characters as long as the shortest
secret of that format, or, for the entropy rules, a quote followed by as many characters of the plugin's alphabet
as a string needs to pass its entropy limit (a string of *n* characters has at most log2(*n*) bits a character).
Gates are searched in C, over the text's bytes or a one-byte-per-byte class map of them (``bytes.translate``):
``bytes.find`` for literals and runs, one regular expression with a literal first character for IPv4 addresses.
The lines a gate hits are then checked with the plugin's own ``analyze_line`` (as detect-secrets calls it); a line
some plugin reports on is a *candidate*, and only candidates go through detect-secrets' line loop — its filters and
its code snippet, with the whole file as context — in ``scan._DetectSecrets``, with the plugins that reported there
(the others report nothing on that line; a plugin reading the lines around, ``CONTEXT_PLUGINS``, runs wherever its
gate hits). A line no gate hits cannot yield a
finding, so the findings are the ones a scan of every line gives (tests/credentials/test_prefilter.py compares
both on the precision corpus and on this repository's own files and history).

Unicode: rules with ``re.IGNORECASE`` also match the four non-ASCII letters that fold to ASCII ones (``İ ı ſ K``),
and ``\\d``/``\\w`` match non-ASCII digits and letters: the lowered text maps those four to ASCII ``i i s k``, and
the run map counts every non-ASCII byte as a token character, so a gate never misses what the rule would see.

A plugin without a gate here (one a later detect-secrets adds) is checked on every line: slower, never wrong.
This module imports only the standard library; the plugins are handed in.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CONTEXT_PLUGINS", "GATES", "Candidates", "Prefilter", "Section"]


@dataclass(frozen=True)
class Literals:
    """Any of ``needles`` in the line (``fold``: in the line lowered, for a case-insensitive rule)."""

    needles: tuple[bytes, ...]
    fold: bool = False


@dataclass(frozen=True)
class Run:
    """``length`` token characters in a row (``[A-Za-z0-9_+/=-]`` or any non-ASCII byte), after ``lead`` if given."""

    length: int
    lead: bytes = b""


@dataclass(frozen=True)
class Pattern:
    """A regular expression over the line's bytes (its first character a literal, so the search is fast)."""

    pattern: bytes


Gate = Literals | Run | Pattern
Section = tuple[str, Sequence[str], Iterable[int] | None]  # a file's name, its lines, the indexes wanted (None: all)
Candidates = list[tuple[int, list[Any]]]  # line indexes, in order, each with the plugins that could report there

_KEYWORDS = tuple(
    f"{word}{joint}{kind}".encode()
    for word, kind in [(w, "key") for w in ("api", "auth", "service", "account", "db", "database", "priv", "private",
                                           "client")] + [("db", "pass"), ("database", "pass"), ("key", "pass")]
    for joint in ("", "_")
) + (b"passw", b"pwd", b"secret", b"contrase")  # fmt: skip

# The gates of detect-secrets 1.5's plugins and ours, by class name; each a condition every line the plugin
# reports on meets (the reason in the comment). The test checks that every plugin in use has one.
GATES: dict[str, tuple[Gate, ...]] = {
    # (?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}; aws…['"]([0-9a-zA-Z/+]{40})['"] (re.I)
    "AWSKeyDetector": (Literals((b"A3T", b"ABIA", b"ACCA", b"AKIA", b"ASIA")), Run(40)),
    "ArtifactoryDetector": (Literals((b"AKC", b"AP")),),  # …AKC[a-zA-Z0-9]{10,}…, …AP[\dABCDEF][a-zA-Z0-9]{8,}…
    "AzureStorageKeyDetector": (Literals((b"AccountKey=",)),),
    "BasicAuthDetector": (Literals((b"://",)),),  # a URL's user and password (the pattern: //…:…@)
    "CloudantDetector": (Run(24),),  # ([0-9a-f]{64}) or ([a-z]{24}) (re.I) in each of its patterns
    "DiscordBotTokenDetector": (Run(24),),  # [MNO][a-zA-Z\d_-]{23,25}\.…
    "GitHubTokenDetector": (Literals((b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_")),),
    "GitLabTokenDetector": (
        Literals(
            (
                b"glpat-",
                b"gldt-",
                b"glft-",
                b"glsoat-",
                b"glrt-",
                b"GR1348941",
                b"glcbt-",
                b"glimt-",
                b"glptt-",
                b"glagent-",
                b"gloas-",
            )
        ),
    ),  # fmt: skip
    "IPPublicDetector": (Pattern(rb"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]"),),  # four dotted octets of [0-9]
    "IbmCloudIamDetector": (Run(44),),  # ([a-zA-Z0-9_\-]{44}) (re.I)
    "IbmCosHmacDetector": (Run(48),),  # ([a-f0-9]{48}) (re.I)
    "JwtTokenDetector": (Literals((b"eyJ",)),),
    # every pattern holds DENYLIST (re.I): api_?key … client_?key, db_?pass, database_?pass, key_?pass, password,
    # passwd, pwd, secret, contraseña/contrasena
    "KeywordDetector": (Literals(_KEYWORDS, fold=True),),
    "MailchimpDetector": (Literals((b"-us",)),),  # [0-9a-z]{32}-us[0-9]{1,2}
    "NpmDetector": (Literals((b":_authToken=",)),),
    "OpenAIDetector": (Literals((b"T3BlbkFJ",)),),
    "PrivateKeyDetector": (Literals((b"BEGIN ", b"-".join((b"PuTTY", b"User", b"Key", b"File", b"2")))),),
    "PypiTokenDetector": (Literals((b"pypi-Ag",)),),
    "SendGridDetector": (Literals((b"SG.",)),),
    "SlackDetector": (Literals((b"xox", b"hooks.slack.com"), fold=True),),  # both re.I
    "SoftlayerDetector": (Run(64), Literals((b"softlayer",), fold=True)),  # ([a-z0-9]{64}) (re.I); api.softlayer.com
    "SquareOAuthDetector": (Literals((b"sq0csp-",)),),
    "StripeDetector": (Literals((b"k_live_",)),),
    "TelegramBotTokenDetector": (Run(35, lead=b":"),),  # \d{8,10}:[0-9A-Za-z_-]{35}
    "TwilioKeyDetector": (Run(34),),  # AC[a-z0-9]{32}, SK[a-z0-9]{32}
    # ours (plugins.py)
    "BluumSandboxKeyDetector": (Literals((b"test_bluum_",)),),
    "BluumSecretDetector": (Run(64),),  # its denylist, [0-9a-fA-F]{64}, on the line in both of its paths
    "BasicAuthorizationDetector": (Literals((b"basic",), fold=True),),  # authorization…basic (re.I), "Basic …"
    "WebhookSecretDetector": (Literals((b"whsec_",)),),
}
# whose findings depend on the lines around (detect-secrets' code snippet): every line the gate hits is a candidate
CONTEXT_PLUGINS = frozenset({"BluumSecretDetector"})

_TOKEN = (string.ascii_letters + string.digits + "_+/=-").encode()
_RUN_MAP = bytes(
    ord("w") if byte in _TOKEN or byte >= 0x80 else byte if byte in b":\n" else ord(".") for byte in range(256)
)


def _class_map(alphabet: str) -> bytes:
    """The bytes of ``alphabet`` as ``c``, quotes as ``q``, newlines kept, everything else ``.``."""
    chars = alphabet.encode("ascii", "ignore")
    return bytes(
        ord("c") if byte in chars else ord("q") if byte in b"'\"" else byte if byte == 10 else ord(".")
        for byte in range(256)
    )


def _entropy_gate(plugin: Any) -> tuple[bytes, bytes] | None:
    """A quoted string of the plugin's alphabet long enough to pass its entropy limit: (class map, needle)."""
    charset, limit = getattr(plugin, "charset", None), getattr(plugin, "entropy_limit", None)
    if not isinstance(charset, str) or not isinstance(limit, int | float) or not charset.isascii():
        return None
    # entropy <= log2(length): more than `limit` bits needs at least 2**limit characters (the equality kept, for
    # the float sum's rounding)
    shortest = max(1, math.floor(2**limit))
    return _class_map(charset), b"q" + b"c" * shortest


_FOLDED = ((b"\xc4\xb0", b"i"), (b"\xc4\xb1", b"i"), (b"\xc5\xbf", b"s"), (b"\xe2\x84\xaa", b"k"))  # İ ı ſ K


class _Document:
    """The text of one file (its lines joined by newlines), its views, each made on first use, and where each
    view's lines start."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.raw = "\n".join(lines).encode("utf-8", "surrogatepass")
        self._views: dict[Any, tuple[bytes, list[int]]] = {}
        self._starts: list[int] | None = None

    def starts(self) -> list[int]:
        """Where the raw text's lines start (a view of the same length has the same)."""
        if self._starts is None:
            self._starts = _line_starts(self.raw)
        return self._starts

    def view(self, name: Any) -> tuple[bytes, list[int]]:
        found = self._views.get(name)
        if found is None:
            if name == "raw":
                found = (self.raw, self.starts())
            elif name == "fold":  # ASCII letters lowered; the four that fold to ASCII under re.IGNORECASE too
                lowered = self.raw.lower()
                if not self.raw.isascii() and any(letter in self.raw for letter, _ in _FOLDED):
                    for letter, ascii_letter in _FOLDED:
                        lowered = lowered.replace(letter, ascii_letter)
                    found = (lowered, _line_starts(lowered))
                else:
                    found = (lowered, self.starts())
            elif name == "run":
                found = (self.raw.translate(_RUN_MAP), self.starts())
            else:  # an entropy rule's class map
                found = (self.raw.translate(name), self.starts())
            self._views[name] = found
        return found


def _line_starts(buffer: bytes) -> list[int]:
    return [0, *(match.end() for match in _NEWLINE.finditer(buffer))]


_NEWLINE = re.compile(b"\n")


def _lines_with(buffer: bytes, starts: list[int], needle: bytes, into: set[int]) -> None:
    """Add the (0-based) lines of ``buffer`` holding ``needle`` to ``into`` (``starts``: where its lines start)."""
    found = buffer.find(needle)
    while found >= 0:
        line = bisect.bisect_right(starts, found) - 1
        into.add(line)
        if line + 1 >= len(starts):
            return
        found = buffer.find(needle, starts[line + 1])


def _lines_matching(buffer: bytes, starts: list[int], pattern: re.Pattern[bytes], into: set[int]) -> None:
    for match in pattern.finditer(buffer):  # no gate pattern matches a newline: a match is on one line
        into.add(bisect.bisect_right(starts, match.start()) - 1)


class Prefilter:
    """The candidate lines of a text for ``plugins`` (detect-secrets plugin instances, as configured)."""

    def __init__(self, plugins: Iterable[Any]) -> None:
        # a plugin's verdict on a line, by plugin, file extension (the keyword rule's patterns depend on the file
        # type) and text: history repeats the same lines in many commits
        self._verdicts: dict[tuple[int, str, str], bool] = {}
        self._checks: list[tuple[Any, tuple[tuple[Any, bytes | re.Pattern[bytes]], ...] | None, bool]] = []
        for plugin in plugins:
            name = type(plugin).__name__
            gates: list[tuple[Any, bytes | re.Pattern[bytes]]] = []
            known = GATES.get(name)
            entropy = _entropy_gate(plugin)
            if entropy is not None:
                gates.append(entropy)
            elif known is not None:
                for gate in known:
                    if isinstance(gate, Literals):
                        gates += [("fold" if gate.fold else "raw", needle) for needle in gate.needles]
                    elif isinstance(gate, Run):
                        gates.append(("run", gate.lead + b"w" * gate.length))
                    else:
                        gates.append(("raw", re.compile(gate.pattern)))
            self._checks.append((plugin, tuple(gates) if gates else None, name in CONTEXT_PLUGINS))

    def candidates(self, filename: str, lines: Sequence[str], only: Iterable[int] | None = None) -> Candidates:
        """The 0-based indexes of ``lines`` (each without its line end) some plugin could report on, in order,
        each with those plugins (the others report nothing there); ``only``: just among these indexes."""
        return self.candidates_of([(filename, lines, only)])[0]

    def candidates_of(self, texts: Sequence[Section]) -> list[Candidates]:
        """``candidates`` of each ``(filename, lines, only)``, the gates searched once over all of them (a
        commit's files, many commits: one search instead of one per file)."""
        starts: list[int] = []
        every: list[str] = []
        allowed: set[int] = set()
        for _, lines, only in texts:
            start = len(every)
            starts.append(start)
            allowed.update(range(start, start + len(lines)) if only is None else (start + index for index in only))
            every += lines
        document = _Document(every)
        hit_by: dict[Any, set[int]] = {}  # a gate's lines, searched once
        plugins_at: dict[int, list[Any]] = {}
        names = [filename for filename, _, _ in texts]
        extensions = [os.path.splitext(filename)[1] for filename in names]  # as detect-secrets tells file types
        for number, (plugin, gates, in_context) in enumerate(self._checks):
            if gates is None:
                gated: set[int] = set(range(len(every)))
            else:
                gated = set()
                for gate in gates:
                    lines_hit = hit_by.get(gate)
                    if lines_hit is None:
                        lines_hit = set()
                        view, needle = gate
                        buffer, starts_of_lines = document.view(view)
                        if isinstance(needle, bytes):
                            _lines_with(buffer, starts_of_lines, needle, lines_hit)
                        else:
                            _lines_matching(buffer, starts_of_lines, needle, lines_hit)
                        hit_by[gate] = lines_hit
                    gated |= lines_hit
            gated &= allowed
            for index in gated:
                if not in_context:
                    text = bisect.bisect_right(starts, index) - 1
                    key = (number, extensions[text], every[index])
                    verdict = self._verdicts.get(key)
                    if verdict is None:
                        verdict = bool(plugin.analyze_line(filename=names[text], line=every[index],
                                                           line_number=index - starts[text] + 1,
                                                           context=None))  # fmt: skip
                        self._verdicts[key] = verdict
                    if not verdict:
                        continue
                plugins_at.setdefault(index, []).append(plugin)
        found: list[Candidates] = [[] for _ in texts]
        for index in sorted(plugins_at):
            text = bisect.bisect_right(starts, index) - 1
            found[text].append((index - starts[text], plugins_at[index]))
        return found
