"""Where the project's own test run spends its time and CPU, per test: a pytest plugin and its summary.

    PYTHONPATH=benchmarks .venv/bin/python -m pytest tests -n 2 -p no:cacheprovider -p _test_cpu -q
    .venv/bin/python benchmarks/_test_cpu.py [--by test] [--top 40]

The plugin appends one JSON line per test to ``$TMPDIR/bluum-test-cpu-<worker>.jsonl`` (remove them before a run):
its wall time, the CPU its worker process spent meanwhile (``self``: the test, the twin and proxy threads it
started) and the CPU of the child processes it waited for (``children``: CLI runs, adapter programs, JVMs, pip,
xdist workers of nested runs). CPU seconds barely move when other people's processes take the cores, wall seconds
do: compare CPU across machines and days, wall only between runs back to back. The summary adds them up per file
(or per test) and per worker — worksteal keeps the two workers' busy time within a second of each other.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import tempfile
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

PREFIX = "bluum-test-cpu-"


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, None]:
    own, children, started = *_cpu(), time.monotonic()
    yield
    own_after, children_after = _cpu()
    row = {
        "id": item.nodeid,
        "wall": time.monotonic() - started,
        "self": own_after - own,
        "children": children_after - children,
    }
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (Path(tempfile.gettempdir()) / f"{PREFIX}{worker}.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="Sum the plugin's per-test figures per file (or per test).")
    parser.add_argument("--by", choices=("file", "test"), default="file")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    totals: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for path in sorted(Path(tempfile.gettempdir()).glob(f"{PREFIX}*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        print(f"{path.stem.removeprefix(PREFIX)}: {len(rows)} tests, busy {sum(r['wall'] for r in rows):.1f} s")
        for row in rows:
            key = row["id"].split("::")[0] if args.by == "file" else row["id"]
            total = totals[key]
            total[0] += row["wall"]
            total[1] += row["self"]
            total[2] += row["children"]
            total[3] += 1
    wall, own, children = (sum(t[i] for t in totals.values()) for i in range(3))
    print(f"all: wall {wall:.1f} s, CPU {own + children:.1f} s (worker {own:.1f}, child processes {children:.1f})")
    for key, (w, s, c, n) in sorted(totals.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{w:7.1f} s wall {s + c:6.1f} s CPU ({s:5.1f} + children {c:5.1f})  {int(n):4d}  {key}")


if __name__ == "__main__":
    main()
