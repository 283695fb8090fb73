"""Precision and recall of the secret scan on the corpus in ``corpus/`` (method and figures: docs/secret-scan.md).

``corpus/clean/`` is ordinary integration code in TS/JS/Python/Go/YAML/Java/shell — clients, configs, storage keys,
header names, enums, test fixtures — holding no secret: every finding there is a false alarm. ``corpus/planted/``
is the same kind of code with secrets planted as ``%%kind%%`` placeholders, filled here with values of the real
formats (derived from the file, line and kind, so each is unique and the repository's text holds no key-shaped
literal). A line that held a placeholder is a planted secret; a finding on it is a true positive.

Units are lines: a (file, line) with one or more findings counts once (several rules on one line are one alarm).

    precision = true positives / (true positives + false positives)
    recall    = planted lines found / planted lines

``python -m tests.credentials.corpus_measure`` prints the figures for the files and for the same corpus in git
history (committed, then deleted); run with an older ``src`` on PYTHONPATH to measure older rules (files only).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bluum_readiness.credentials.scan import hash_secret, scan
from bluum_readiness.credentials.scan_cache import ScanCache

CORPUS = Path(__file__).with_name("corpus")
PLACEHOLDER = re.compile(r"%%([a-z_0-9]+)%%")
ALNUM = string.ascii_letters + string.digits
WORDS = ("correct", "horse", "battery", "staple", "orbit", "maple", "velvet", "harbor", "quartz", "meadow")


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(("bluum-readiness corpus", *parts)).encode()).digest()


def _chars(seed: bytes, alphabet: str, n: int) -> str:
    out, block = [], seed
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += [alphabet[b % len(alphabet)] for b in block]
    return "".join(out[:n])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def planted_value(kind: str, where: str) -> str:
    """A value of the real format of ``kind``, unique to ``where`` (file:line)."""
    seed = _digest(kind, where)
    hexed = hashlib.sha256(seed).hexdigest()
    values = {
        "bluum_key": lambda: f"test_bluum_{hexed}",
        "bluum_secret": lambda: hexed,
        "aws_key": lambda: "AKIA" + _chars(seed, string.ascii_uppercase + "234567", 16),
        "aws_secret": lambda: _chars(seed, ALNUM + "/+", 40),
        "stripe": lambda: "sk_live_" + _chars(seed, ALNUM, 24),
        "github": lambda: "ghp_" + _chars(seed, ALNUM, 36),
        "slack": lambda: "https://hooks.slack.com/services/T{}/B{}/{}".format(
            _chars(seed, string.ascii_uppercase + string.digits, 8),
            _chars(seed[::-1], string.ascii_uppercase + string.digits, 8),
            _chars(seed + b"x", ALNUM, 24),
        ),
        "basic": lambda: "Basic " + base64.b64encode(f"acme-ci:{_chars(seed, ALNUM, 18)}".encode()).decode(),
        "whsec": lambda: "whsec_" + base64.b64encode(seed[:24]).decode(),
        "password": lambda: _chars(seed, ALNUM, 6) + "-" + _chars(seed[::-1], ALNUM + "!#", 8),
        "db_password": lambda: _chars(seed, ALNUM, 18),
        "api_token": lambda: _chars(seed, ALNUM, 32),
        "half_hex": lambda: hexed[:32],
        "passphrase": lambda: "-".join(WORDS[b % len(WORDS)] for b in seed[:4]),
        "npm": lambda: "npm_" + _chars(seed, ALNUM, 36),
        "sendgrid": lambda: f"SG.{_chars(seed, ALNUM + '-_', 22)}.{_chars(seed[::-1], ALNUM + '-_', 43)}",
        "twilio": lambda: "SK" + hexed[:32],
        "jwt": lambda: ".".join(
            [
                _b64url(b'{"alg":"HS256","typ":"JWT"}'),
                _b64url(b'{"sub":"' + hexed[:12].encode() + b'","iat":1767225600}'),
                _b64url(seed),
            ]
        ),
        "private_key": lambda: (
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + "\n".join(_chars(seed + bytes([i]), ALNUM + "+/", 64) for i in range(4))
            + "\n-----END RSA PRIVATE KEY-----"
        ),
    }
    if kind not in values:
        raise ValueError(f"unknown placeholder kind {kind!r} in the corpus ({where}); known: {sorted(values)}")
    return values[kind]()


def _recorded(value: str) -> str:
    """The part of a planted value a rule records (the token of ``Basic <token>``, a private key's first line)."""
    return value.removeprefix("Basic ").splitlines()[0]


@dataclass
class Corpus:
    """The corpus laid out in a folder: files, and the planted (file, line) pairs."""

    root: Path
    planted: dict[tuple[str, int], str] = field(default_factory=dict)  # place -> hash of the value planted there
    files: list[str] = field(default_factory=list)


def lay_out(target: Path) -> Corpus:
    """Write the corpus (placeholders filled) under ``target``; returns where the planted secrets are."""
    corpus = Corpus(target)
    for source in sorted(CORPUS.rglob("*")):
        if not source.is_file() or "__pycache__" in source.parts:
            continue  # bytecode left by an import of a corpus file is not part of the corpus
        relative = source.relative_to(CORPUS).as_posix()
        lines_out: list[str] = []
        number = 1
        for text in source.read_text(encoding="utf-8").splitlines():
            where = f"{relative}:{number}"
            values = [planted_value(kind, where) for kind in PLACEHOLDER.findall(text)]
            if values:
                corpus.planted[(relative, number)] = hash_secret(_recorded(values[0]))
            filled = PLACEHOLDER.sub(lambda m, where=where: planted_value(m.group(1), where), text)  # type: ignore[misc]
            lines_out.append(filled)
            number += filled.count("\n") + 1
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines_out) + "\n", encoding="utf-8")
        corpus.files.append(relative)
    return corpus


@dataclass
class Figures:
    true_positives: int
    false_positives: list[tuple[str, int]]
    missed: list[tuple[str, int]]

    @property
    def precision(self) -> float:
        found = self.true_positives + len(self.false_positives)
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        planted = self.true_positives + len(self.missed)
        return self.true_positives / planted if planted else 1.0

    def __str__(self) -> str:
        alarms, planted = self.true_positives + len(self.false_positives), self.true_positives + len(self.missed)
        return (
            f"precision {self.precision:.1%} ({self.true_positives} of {alarms} alarms), recall {self.recall:.1%} "
            f"({self.true_positives} of {planted} planted); false alarms: {self.false_positives}; "
            f"missed: {self.missed}"
        )


def judge(found: set[tuple[str, int, str]], corpus: Corpus) -> Figures:
    """``found``: (file, line, hashed secret). A finding is true when it is on a planted line or reports a planted
    value (detect-secrets' YAML reading puts a block scalar's value on its key's line)."""
    hashes = {(file, value) for (file, _), value in corpus.planted.items()}
    true = {(f, line) for f, line, hashed in found if (f, line) in corpus.planted or (f, hashed) in hashes}
    false = {(f, line) for f, line, _ in found} - true
    seen = {(f, hashed) for f, _, hashed in found} | {(f, hashed) for f, line, hashed in found}
    missed = {place for place, value in corpus.planted.items() if place not in true and (place[0], value) not in seen}
    return Figures(len(corpus.planted) - len(missed), sorted(false), sorted(missed))


def measure_files(folder: Path) -> Figures:
    corpus = lay_out(folder)
    result = scan(["."], cwd=folder, cache=ScanCache(None))
    return judge({(f.file, f.line, f.hashed_secret) for f in result.findings}, corpus)


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Corpus",
    "GIT_AUTHOR_EMAIL": "corpus@example.com",
    "GIT_COMMITTER_NAME": "Corpus",
    "GIT_COMMITTER_EMAIL": "corpus@example.com",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def measure_history(folder: Path) -> Figures:
    """The corpus committed, then every file deleted: only history holds it."""
    corpus = lay_out(folder)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=folder, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "corpus")
    for name in corpus.files:
        (folder / name).unlink()
    git("add", "-A")
    git("commit", "-q", "-m", "removed")
    (folder / "README.txt").write_text("the corpus lives in history\n")
    result = scan(["."], cwd=folder, cache=ScanCache(None), history_depth=10)
    assert result.history.ran, result.history.status
    return judge({(f.file, f.line, f.hashed_secret) for f in result.history_findings}, corpus)


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as temp:
        print("files:  ", measure_files(Path(temp) / "files"))
        try:
            print("history:", measure_history(Path(temp) / "history"))
        except TypeError:  # rules from before the history scan (no history_depth)
            print("history: not supported by these rules")
        finally:
            shutil.rmtree(Path(temp) / "history", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
