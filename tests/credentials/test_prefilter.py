"""The prefilter changes how fast the scan is, never what it finds: the same findings as every line through every
plugin (``scan(exhaustive=True)``) — on the precision corpus in the files and in git history, and on lines made to
slip past a careless gate (non-ASCII letters that case-fold to ASCII, secrets at a line's start and end) — and
every plugin in use has a gate."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bluum_readiness.credentials import prefilter
from bluum_readiness.credentials.scan import _detect_secrets, scan
from bluum_readiness.credentials.scan_cache import ScanCache
from tests.credentials.corpus_measure import GIT_ENV, lay_out


def _everything(result: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    files = sorted((f.file, f.line, f.rule, f.hashed_secret) for f in [*result.findings, *result.accepted])
    history = sorted((o.commit, str(o.path), o.line, o.rule, o.hashed_secret) for o in result.history.occurrences)
    return files, history


def _both(folder: Path, **options: Any) -> tuple[Any, Any]:
    fast = scan(["."], cwd=folder, cache=ScanCache(None), **options)
    every_line = scan(["."], cwd=folder, cache=ScanCache(None), exhaustive=True, **options)
    return fast, every_line


@pytest.fixture(scope="module")
def corpus_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus committed, then half its files changed and committed again (so history and files differ)."""
    folder = tmp_path_factory.mktemp("corpus")
    corpus = lay_out(folder)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=folder, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "corpus")
    for name in corpus.files[::2]:
        path = folder / name
        path.write_text("# moved elsewhere\n" + path.read_text()[::-1])
    git("add", "-A")
    git("commit", "-q", "-m", "changed")
    return folder


def test_the_corpus_gives_the_same_findings_with_and_without_the_prefilter(corpus_repository: Path) -> None:
    fast, every_line = _both(corpus_repository, history_depth=10)
    assert fast.history.complete and fast.history.commits == 2
    found = _everything(fast)
    assert found == _everything(every_line)
    assert len(found[0]) >= 30 and len(found[1]) >= 30  # it found things, in the files and in history


@pytest.mark.parametrize(
    "line",
    [
        'ap\u0130_key = "Zk9vYmFyLUJhelF1eDEyMzQ1Njc4OTAK"',  # İ folds to i under re.IGNORECASE
        'api_\u212aey = "hunter2-Corr3ct-h0rse-staple"',  # Kelvin sign K folds to k
        '\u017fecret = "hunter2-Corr3ct-h0rse-staple"',  # long s folds to s
        'password="x9$Lq!vR2#"',
        "A" * 3 + "KIA" + "Q" * 16,  # an AWS key id at the line's start, nothing after
        "'" + "ab12cd34ef" + "'",  # a short hex string in quotes
        '"' + "Zk9vYmFyLUJhelF1eDEyMzQ1Njc4OTAK" + '"',
        "token: 12345678:" + "A" * 17 + "b" * 18,
        "x = '\u0663\u0664" + "M" * 24 + ".abcdef." + "z" * 27 + "'",
        "server 8.8.4.4:53",
    ],
)
def test_lines_made_to_slip_past_a_gate_are_found_alike(tmp_path: Path, line: str) -> None:
    (tmp_path / "settings.py").write_text(f"# config\n{line}\nTIMEOUT_S = 5\n", encoding="utf-8")
    fast, every_line = _both(tmp_path)
    assert _everything(fast) == _everything(every_line)


def test_every_plugin_in_use_has_a_gate() -> None:
    with _detect_secrets() as detect:
        plugins = detect._plugins
    names = {type(p).__name__ for p in plugins}
    entropy = {type(p).__name__ for p in plugins if hasattr(p, "entropy_limit")}
    assert entropy == {"Base64HighEntropyString", "HexHighEntropyString"}
    assert names - entropy <= set(prefilter.GATES), names - entropy - set(prefilter.GATES)
    assert len(names) >= 25  # detect-secrets' own and ours


def test_the_keyword_gate_covers_the_keyword_rules_words() -> None:
    from detect_secrets.plugins import keyword

    # every pattern of the keyword rule holds one of these words (case-insensitively), each holding a needle
    for word in keyword.DENYLIST:
        spellings = {word.replace("_?", joint) for joint in ("", "_")}
        for spelled in spellings:
            assert any(needle.decode() in spelled for needle in prefilter._KEYWORDS), spelled
    patterns = [p.pattern for table in keyword.REGEX_BY_FILETYPE.values() for p in table]
    assert patterns and all(keyword.DENYLIST_REGEX in p for p in patterns)
