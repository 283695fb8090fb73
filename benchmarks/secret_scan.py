"""The secret scan of a repository, files and git history, against the time it takes just to read them.

    .venv/bin/python benchmarks/secret_scan.py [--path FOLDER] [--repeat 3] [--quick] [--exhaustive]

Each round, interleaved, with fresh cache folders:

- **read**: ``git log -p`` of the history the scan covers (the same commits, output read to the end) and a plain
  read of the files the scan reads (the same walk and excludes, ``read_bytes``) — what any scan must at least do;
- files only (``history = false``), cold;
- files and history, cold (the target: at most 25x the read);
- the same again, warm (every file and commit known, so git is only asked for the commit list);
- with ``--exhaustive``, files and history cold with every line through every plugin (no prefilter: the scan
  before issue 24's prefilter, same findings).

Medians of ``--repeat`` rounds, the scan's CPU time beside its wall time (the machine may be shared: the ratio
within a round is what counts), and the load average before and after. ``--quick`` scans a small repository it
makes from the precision corpus (tests/credentials/corpus), one round, so the script does not rot.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import ROOT, load_note, machine, median

from bluum_readiness.credentials.gitlog import repository
from bluum_readiness.credentials.scan import DEFAULT_EXCLUDES, _files, scan
from bluum_readiness.credentials.scan_cache import ScanCache


def quick_repository(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.credentials.corpus_measure import GIT_ENV, lay_out

    lay_out(folder)
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "corpus"]):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)
    return folder


def read_history(folder: Path, depth: int) -> int:
    """``git log -p`` of the newest ``depth`` commits HEAD reaches, read to the end: its size in bytes."""
    found = repository(folder)
    if isinstance(found, str):
        return 0
    done = found.git("log", f"--max-count={depth}", "-p", "--no-color", "--format=%H", "HEAD")
    return len(done.stdout)


def read_files(folder: Path) -> int:
    """The files the scan walks (same excludes, git-ignored ones left out), read: their size in bytes."""
    return sum(len(path.read_bytes()) for path in _files([folder], DEFAULT_EXCLUDES, include_ignored=False))


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds (this process; git's own CPU is not in it) of ``work()``, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", type=Path, default=ROOT, help="the folder to scan (default: this checkout)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="a small repository made from the corpus, 1 round")
    parser.add_argument("--exhaustive", action="store_true", help="also the scan without the prefilter (slow)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as temp:
        folder = quick_repository(Path(temp) / "repo") if args.quick else args.path.resolve()
        rounds = 1 if args.quick else args.repeat
        labels = ["read: git log -p", "read: the files", "files only, cold", "files + history, cold",
                  "files + history, warm"]  # fmt: skip
        labels += ["files + history, cold, exhaustive"] if args.exhaustive else []
        wall: dict[str, list[float]] = {label: [] for label in labels}
        cpu: dict[str, list[float]] = {label: [] for label in labels}
        ratios: list[float] = []
        result: Any = None
        sizes = (0, 0)
        scan(["."], cwd=folder, cache=ScanCache(None), history_depth=1)  # imports and git's caches: not measured
        for n in range(rounds):
            cache = ScanCache(Path(temp) / f"cache-{n}")
            work: list[tuple[str, Callable[[], Any]]] = [
                ("read: git log -p", lambda: read_history(folder, args.depth)),
                ("read: the files", lambda: read_files(folder)),
                ("files only, cold", lambda n=n: scan(["."], cwd=folder, cache=ScanCache(Path(temp) / f"files-{n}"))),
                (
                    "files + history, cold",
                    lambda cache=cache: scan(["."], cwd=folder, cache=cache, history_depth=args.depth),
                ),
                (
                    "files + history, warm",
                    lambda cache=cache: scan(["."], cwd=folder, cache=cache, history_depth=args.depth),
                ),
            ]
            if args.exhaustive:
                work.append(("files + history, cold, exhaustive",
                             lambda: scan(["."], cwd=folder, cache=ScanCache(None), history_depth=args.depth,
                                          exhaustive=True)))  # fmt: skip
            round_wall: dict[str, float] = {}
            for label, job in work:
                seconds, cpu_seconds, value = timed(job)
                wall[label].append(seconds)
                cpu[label].append(cpu_seconds)
                round_wall[label] = seconds
                if label.startswith("read"):
                    sizes = (value, sizes[1]) if label.endswith("log -p") else (sizes[0], value)
                elif label == "files + history, cold":
                    result = value
            read = round_wall["read: git log -p"] + round_wall["read: the files"]
            ratios.append(round_wall["files + history, cold"] / read)
            print(f"round {n + 1}: files + history, cold, {ratios[-1]:.1f}x the read ({load_note()})")
        history = result.history
        print(f"folder: {folder} ({result.files_scanned} files, {sizes[1] / 1e6:.1f} MB; history {history.status}, "
              f"{history.commits} commits, {sizes[0] / 1e6:.1f} MB of patches; "
              f"{len(result.findings) + len(result.history_findings)} findings)")  # fmt: skip
        for label in labels:
            shown = ", ".join(f"{v:.3f}" for v in wall[label])
            print(f"{label:36} median {median(wall[label]):7.3f} s wall, {median(cpu[label]):7.3f} s CPU  ({shown})")
        print(
            f"files + history, cold: median {median(ratios):.1f}x the time to read them (git log -p + the files; "
            f"rounds {', '.join(f'{r:.1f}' for r in ratios)}); target <= 25x"
        )
        if args.exhaustive:
            fast, slow = median(wall["files + history, cold"]), median(wall["files + history, cold, exhaustive"])
            print(f"exhaustive (every line through every plugin) / prefiltered: {slow / fast:.1f}x")
        print(f"after: {load_note()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
