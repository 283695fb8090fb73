"""Benchmark 1: the full readiness run (``bluum-readiness run``, embedded twin, reference integration).

    .venv/bin/python benchmarks/full_run.py [--repeat 3] [--workers 0,2] [--integration reference,node]
                                            [--quick] [--json FILE]

Runs the real command in a subprocess from an empty folder (so no bluum-readiness.toml is picked up), serial
and with ``-n 2``, interleaved (serial, -n 2, serial, -n 2, …) so both modes see the same background load;
reports the median of the repetitions. ``--integration`` compares integrations in the same interleaved loop:
``reference`` (the Python reference, in-process), ``node`` (the Node team's integration of the project's tests,
``exec:node tests/integrations/node/acme_adapter.mjs``: one program started per integration the suite builds),
``python-program`` (the reference as a separate Python program), or any ``--integration`` spec.
``--baseline-cli PATH`` adds ``baseline``: the same run (reference integration) by another install's
``bluum-readiness`` (e.g. a checkout of the tree before a change, in its own venv), in the same loop, so a change
is measured as a ratio in one run. For ``exec:``
integrations it also counts the programs a run started (from the evidence) and times one start, handshake and
shutdown on its own, so the share of the run spent starting programs is known.
Per check and per item it reads ``duration_s`` from readiness.json.
The API requests are counted by the twin itself: with ``BLUUM_READINESS_TWIN_STATS`` set, every worker's
twin appends the responses it sent, by area and status, when it stops. ``/v1`` requests are what a run
would spend against the real sandbox (10 requests/s per key pair: 0.1 s each); ``/_sandbox`` controls exist
only on the twin. Faults the proxy answers itself never reach the twin and cost nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import ROOT, cli_command, load_note, machine, median

SANDBOX_RATE = 10.0  # requests/s per key pair on the real sandbox


INTEGRATIONS = {
    "reference": None,  # the default: bluum_readiness.reference:create_fast
    "node": f"exec:node {ROOT / 'tests' / 'integrations' / 'node' / 'acme_adapter.mjs'}",
    "python-program": f"exec:{sys.executable} {ROOT / 'tests' / 'integrations' / 'program' / 'python_adapter.py'}",
}


def _spec(name: str) -> str | None:
    return INTEGRATIONS.get(name, name)


BASELINE = "baseline"


def _described(name: str, baseline_cli: str | None) -> str:
    if name == BASELINE:
        return f"{baseline_cli} run, the reference"
    return _spec(name) or "bluum_readiness.reference:create_fast"


def one_run(workers: int, only: list[str], scratch: Path, tag: str, integration: str = "reference",
            baseline_cli: str | None = None) -> dict[str, Any]:  # fmt: skip
    out = scratch / f"out-{tag}"
    stats = scratch / f"stats-{tag}.jsonl"
    if integration == BASELINE and baseline_cli is not None:
        cmd, spec = [baseline_cli, "run", "--out", str(out)], None
    else:
        cmd, spec = [*cli_command(), "run", "--out", str(out)], _spec(integration)
    cmd += ["--integration", spec] if spec else []
    cmd += ["-n", str(workers)] if workers else []
    for item in only:
        cmd += ["--only", item]
    env = {**os.environ, "BLUUM_READINESS_TWIN_STATS": str(stats)}
    env.pop("CI", None)  # the reference integration unconfigured is a demonstration, refused under CI
    for name in ("BLUUM_API_KEY", "BLUUM_API_SECRET"):  # the run makes its own twin key pair
        env.pop(name, None)
    load = load_note()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1) or not (out / "readiness.json").exists():  # 1: ran, verdict not ready
        raise SystemExit(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    report = json.loads((out / "readiness.json").read_text())
    if proc.returncode == 1:
        print(f"  note: the run's verdict was {report.get('verdict')!r} (exit 1); its timings still count")
    responses: dict[str, int] = defaultdict(int)
    twins = 0
    for line in stats.read_text().splitlines() if stats.exists() else []:
        twins += 1
        for key, n in json.loads(line)["responses"].items():
            responses[key] += n
    programs = sum(len((c.get("evidence") or {}).get("integration_stderr") or []) for i in report["items"]
                   for c in i["checks"])  # fmt: skip
    return {"workers": workers, "integration": integration, "wall_s": wall, "report": report,
            "responses": dict(responses), "twins": twins, "load": load, "programs": programs}  # fmt: skip


def program_start_s(spec: str, samples: int = 10) -> list[float]:
    """Seconds to start an ``exec:`` integration, shake hands and shut it down, ``samples`` times."""
    from bluum_readiness.integration import load_factory
    from bluum_readiness.protocol import ProgramFactory

    factory = load_factory(spec)
    assert isinstance(factory, ProgramFactory)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        factory.probe()
        timings.append(time.perf_counter() - started)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each mode (median reported)")
    parser.add_argument("--workers", default="0,2", help="comma-separated worker counts, 0 = serial (default 0,2)")
    parser.add_argument("--only", action="append", default=[], metavar="ITEM", help="only this checklist item")
    parser.add_argument("--integration", default="reference", metavar="NAMES",
                        help="comma-separated integrations to compare: reference, node, python-program, or a spec "
                        "(default: reference)")  # fmt: skip
    parser.add_argument("--baseline-cli", metavar="PATH",
                        help="another install's bluum-readiness, run in the same loop as 'baseline'")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="one serial run of the smoke-test item (a smoke test)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures as JSON")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    try:
        modes = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error(f"--workers {args.workers!r} must be comma-separated integers, e.g. 0,2")
    integrations = [name for name in args.integration.split(",") if name]
    if args.baseline_cli:
        if not Path(args.baseline_cli).is_file():
            parser.error(f"--baseline-cli {args.baseline_cli!r} is not a file: give another install's bluum-readiness")
        integrations.append(BASELINE)
    if args.quick:
        args.repeat, modes, args.only = 1, [0], args.only or ["smoke-test"]

    print(machine())
    only = "".join(f" --only {i}" for i in args.only)
    print(
        f"command: bluum-readiness run [-n N] [--integration SPEC]{only} (embedded twin); integrations: "
        + ", ".join(f"{name} ({_described(name, args.baseline_cli)})" for name in integrations)
    )
    print(f"method: {args.repeat} repetition(s), modes interleaved {modes}; wall time = perf_counter around the "
          "subprocess (includes interpreter start, pytest collection, twin/proxy start-up and teardown)")  # fmt: skip
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bluum-bench-") as tmp:
        for rep in range(args.repeat):
            for integration in integrations:
                for workers in modes:
                    r = one_run(
                        workers, args.only, Path(tmp), f"{rep}-{integration}-{workers}", integration, args.baseline_cli
                    )
                    runs.append(r)
                    print(f"  run {rep + 1} {integration} -n {workers}: {r['wall_s']:.2f} s wall (readiness.json "
                          f"duration_s {r['report']['duration_s']:.2f}, verdict {r['report']['verdict']}); "
                          f"{r['load']}")  # fmt: skip

    print("\nwall time (median of repetitions):")
    for integration in integrations:
        for workers in modes:
            walls = [r["wall_s"] for r in runs if r["workers"] == workers and r["integration"] == integration]
            label = f"{integration} " + ("serial" if workers == 0 else f"-n {workers}")
            spread = f"min {min(walls):.2f}, max {max(walls):.2f}, n={len(walls)}"
            print(f"  {label:24s} median {median(walls):6.2f} s  ({spread})")
        if 0 in modes and len(modes) > 1:
            for workers in modes[1:]:
                ratio = median([r["wall_s"] for r in runs if r["workers"] == 0 and r["integration"] == integration]) / (
                    median([r["wall_s"] for r in runs if r["workers"] == workers and r["integration"] == integration])
                )
                print(f"  {integration}: speed-up of -n {workers} over serial: {ratio:.2f}x")
    first = integrations[0]
    for integration in integrations[1:]:
        for workers in modes:
            ratio = median(
                [r["wall_s"] for r in runs if r["workers"] == workers and r["integration"] == integration]
            ) / (median([r["wall_s"] for r in runs if r["workers"] == workers and r["integration"] == first]))
            print(f"  {integration} / {first} (-n {workers}): {ratio:.2f}x the wall time")
    for integration in integrations:
        spec = _spec(integration)
        if not spec or not spec.startswith("exec:"):
            continue
        starts = program_start_s(spec)
        started = median([r["programs"] for r in runs if r["integration"] == integration and r["workers"] == modes[0]])
        wall = median([r["wall_s"] for r in runs if r["integration"] == integration and r["workers"] == modes[0]])
        print(f"  {integration}: {started:.0f} programs started per run; one start + handshake + shutdown "
              f"{median(starts) * 1000:.0f} ms (median of {len(starts)}, min {min(starts) * 1000:.0f}, max "
              f"{max(starts) * 1000:.0f}) -> ~{started * median(starts):.1f} s, {started * median(starts) / wall:.0%} "
              f"of the run's {wall:.1f} s")  # fmt: skip

    base = [r for r in runs if r["workers"] == modes[0] and r["integration"] == first]
    per_check: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in base:
        for item in r["report"]["items"]:
            for check in item["checks"]:
                per_check[(item["id"], check["id"])].append(float(check.get("duration_s") or 0.0))
    label = "serial" if modes[0] == 0 else f"-n {modes[0]}"
    print(f"\ntime per checklist item and check ({label}, median of {len(base)} run(s), readiness.json duration_s):")
    items: dict[str, float] = defaultdict(float)
    for (item_id, _), values in per_check.items():
        items[item_id] += median(values)
    for item_id, total in sorted(items.items(), key=lambda kv: -kv[1]):
        print(f"  {item_id:22s} {total:6.2f} s")
        checks = [(c, median(v)) for (i, c), v in per_check.items() if i == item_id]
        for check_id, value in sorted(checks, key=lambda kv: -kv[1]):
            print(f"      {check_id:48s} {value:6.3f} s")
    print(f"  {'sum of checks':22s} {sum(items.values()):6.2f} s")

    print("\nrequests the run made (counted by the twin(s) of one run; faults answered by the proxy not included):")
    for workers in modes:
        r = next(r for r in runs if r["workers"] == workers and r["integration"] == first)
        resp = r["responses"]
        api, sandbox = resp.get("api", 0), resp.get("sandbox", 0)
        label = "serial" if workers == 0 else f"-n {workers}"
        print(f"  {label:8s} {api} API requests (/v1) + {sandbox} sandbox controls (/_sandbox, twin only) "
              f"across {r['twins']} twin(s); 429s answered by the twin: {resp.get('api 429', 0)}")  # fmt: skip
    api = next(r for r in runs if r["workers"] == modes[0] and r["integration"] == first)["responses"].get("api", 0)
    print(f"  at the real sandbox's {SANDBOX_RATE:g} requests/s the API requests alone need "
          f">= {api / SANDBOX_RATE:.1f} s of rate-limit budget (0.1 s each), "
          "whatever the number of workers")  # fmt: skip

    if args.json:
        slim = [{k: v for k, v in r.items() if k != "report"} | {"duration_s": r["report"]["duration_s"]} for r in runs]
        per_check_out = {f"{i}/{c}": median(v) for (i, c), v in per_check.items()}
        Path(args.json).write_text(json.dumps({"runs": slim, "per_check_s": per_check_out}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
