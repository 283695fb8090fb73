"""Instructions per request of a server process, counted by valgrind's callgrind: a figure other load cannot move.

Wall-clock latency on a shared machine moves with everybody else's work; the number of instructions a process
executes for one request does not (it moves with the code, the interpreter and the libraries). The server is
started under ``valgrind --tool=callgrind --instr-atstart=no`` (start-up runs uninstrumented, so it takes
seconds, not minutes), warmed up, then ``callgrind_control`` zeroes the counters and switches counting on,
the requests are sent, and a dump gives the total. User-space instructions of every thread of the process;
the kernel's work (system calls) is not counted. Hardware counters (``perf stat -e instructions``) would be
faster but are often missing in virtual machines, so valgrind is what this uses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["available", "count_instructions", "interpreter_command"]


def available() -> str | None:
    """None when valgrind and callgrind_control are installed, else what is missing."""
    missing = [tool for tool in ("valgrind", "callgrind_control") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not found (Debian: apt-get install valgrind)" if missing else None


def interpreter_command(script: str) -> list[str]:
    """``[interpreter, script]`` for a console script with a ``#!`` line (valgrind then runs the interpreter)."""
    first = Path(script).read_text(errors="replace").splitlines()[0] if Path(script).exists() else ""
    if first.startswith("#!"):
        return [*first[2:].split(), script]
    return [script]


def count_instructions(
    command: list[str],
    ready: Callable[[], bool],
    workload: Callable[[int], None],
    *,
    requests: int,
    warmup: int = 20,
    start_timeout: float = 300.0,
    env: dict[str, str] | None = None,
) -> float:
    """Instructions per request: ``command`` under callgrind, ``workload(n)`` sends n requests to it.

    ``ready()`` is polled until the server answers (under valgrind start-up takes a while); ``env``: extra
    environment variables for the server.
    """
    with tempfile.TemporaryDirectory(prefix="bluum-bench-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *command]
        environ = {**os.environ, **(env or {})}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environ)
        try:
            deadline = time.monotonic() + start_timeout
            while not ready():
                if proc.poll() is not None:
                    said = proc.stderr.read()[-1500:] if proc.stderr else ""
                    raise SystemExit(f"{command[0]} under valgrind exited: {said}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"{command[0]} under valgrind did not answer within {start_timeout:g} s")
                time.sleep(0.5)
            workload(warmup)
            _control(proc.pid, "--zero")
            _control(proc.pid, "--instr=on")
            workload(requests)
            _control(proc.pid, "--dump")
            _control(proc.pid, "--instr=off")
            total = _totals(Path(tmp))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return total / requests


def _control(pid: int, option: str) -> None:
    done = subprocess.run(["callgrind_control", option, str(pid)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"callgrind_control {option} {pid} failed: {done.stdout}{done.stderr}")


def _totals(folder: Path) -> float:
    """The instructions of the dump(s) taken while counting was on (files ``callgrind.out.N``)."""
    total = 0
    for dump in sorted(folder.glob("callgrind.out.*")):
        lines = dump.read_text(errors="replace").splitlines()
        found = [x for x in lines if x.startswith("totals:")] or [x for x in lines if x.startswith("summary:")]
        if found:
            total += int(found[0].split()[1])
    if not total:
        raise SystemExit(f"callgrind wrote no totals in {folder}")
    return float(total)
