"""The secret scan of a repository, files and git history, with an empty cache and again with the cache warm.

    .venv/bin/python benchmarks/secret_scan.py [--path FOLDER] [--repeat 3] [--quick]

Each round scans with a fresh cache folder: files only (``history = false``), then files and history (cold), then
the same again (warm: every file and commit known, so git is only asked for the commit list). Medians of
``--repeat`` rounds, interleaved, with what the history scan read (commits, patch bytes). ``--quick`` scans a
small repository it makes from the precision corpus (tests/credentials/corpus), so the script does not rot.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, median

from bluum_readiness.credentials.gitlog import repository
from bluum_readiness.credentials.scan import scan
from bluum_readiness.credentials.scan_cache import ScanCache


def quick_repository(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.credentials.corpus_measure import GIT_ENV, lay_out

    lay_out(folder)
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "corpus"]):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)
    return folder


def patch_bytes(folder: Path, depth: int) -> int:
    found = repository(folder)
    if isinstance(found, str):
        return 0
    done = found.git("log", f"--max-count={depth}", "-p", "--no-color", "--format=%H", "HEAD")
    return len(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", type=Path, default=ROOT, help="the folder to scan (default: this checkout)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="a small repository made from the corpus, 1 round")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as temp:
        folder = quick_repository(Path(temp) / "repo") if args.quick else args.path.resolve()
        rounds = 1 if args.quick else args.repeat
        times: dict[str, list[float]] = {"files only": [], "files + history, cold": [], "files + history, warm": []}
        result = None
        for n in range(rounds):
            cache = ScanCache(Path(temp) / f"cache-{n}")
            for label, depth in (("files only", 0), ("files + history, cold", args.depth),
                                 ("files + history, warm", args.depth)):  # fmt: skip
                store = ScanCache(Path(temp) / f"files-only-{n}") if depth == 0 else cache
                start = time.perf_counter()
                result = scan(["."], cwd=folder, cache=store, history_depth=depth)
                times[label].append(time.perf_counter() - start)
        assert result is not None
        history = result.history
        print(f"folder: {folder} ({result.files_scanned} files; history {history.status}, {history.commits} commits, "
              f"{patch_bytes(folder, args.depth) / 1e6:.1f} MB of patches)")  # fmt: skip
        for label, values in times.items():
            print(f"{label:24} median {median(values):6.2f} s  ({', '.join(f'{v:.2f}' for v in values)})")
        cold, warm = median(times["files + history, cold"]), median(times["files + history, warm"])
        files = median(times["files only"])
        print(f"history scan, cold: {cold - files:.2f} s more than files only; history scan, warm: {warm:.2f} s for "
              f"everything ({cold / warm:.0f}x faster than cold; {history.commits_from_cache} commits from the cache, "
              f"{history.commits_read} read from git)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
