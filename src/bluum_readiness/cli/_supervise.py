"""``bluum-readiness run`` under a supervising parent: no run ends without a complete readiness.json unnoticed.

The console command forks: the child runs the command (``main``), the parent waits for it and checks the outcome.
The child reports over a pipe where its record goes (``out``, once it owns the ``--out`` folder) and that it ended
under its own control (``end`` with its exit code). The parent then:

- passes the child's exit code through when it ended under control, after checking that a run that reached a
  verdict (exit 0 or 1) left a complete readiness.json (it exists, matches the report schema and its digest);
- otherwise (the process was killed, or something in it called ``os._exit``: an integration module that exits at
  import, a library that ends the process) says so, says that no complete record was written, removes the run's
  lock, and exits non-zero: 130 when it was killed by SIGINT or SIGTERM, else 1.

Signals: the child runs in its own process group. A Ctrl-C (SIGINT) the parent gets is passed to that whole group
(the run and its xdist workers, as a terminal would), a SIGTERM to the run's process (which ends its workers). On a
platform without ``fork`` the command runs in-process, unsupervised.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

__all__ = ["notify", "supervise"]

_channel: int | None = None  # the pipe to the supervisor, in the supervised child


def notify(kind: str, value: object) -> None:
    """Tell the supervisor (if any) one fact: ``out`` (the absolute ``--out`` folder) or ``end`` (the exit code)."""
    if _channel is None:
        return
    with contextlib.suppress(OSError):
        os.write(_channel, f"{kind}\t{value}\n".encode())


def _messages(read: int) -> dict[str, str]:
    os.set_blocking(read, False)
    data = b""
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(read, 65536):
            data += chunk
    os.close(read)
    found: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        kind, _, value = line.partition("\t")
        found[kind] = value
    return found


def _record_problem(out: Path) -> str | None:
    """Why ``out/readiness.json`` is not a complete record, or None. Complete: JSON with a verdict and items, and
    its digest matches (the run writes it atomically, digest last); the schema is left to readers (importing
    jsonschema here would cost every run ~0.2 s)."""
    import json

    from bluum_readiness.report.digest import recompute

    path = out / "readiness.json"
    if not path.is_file():
        return f"{path} was not written"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"{path} is incomplete ({exc})"
    if not isinstance(document, dict) or "verdict" not in document or "items" not in document:
        return f"{path} is incomplete (no verdict or items)"
    recorded = document.get("digest")
    if not isinstance(recorded, dict) or recorded.get("value") != recompute(document):
        return f"{path} does not match its digest"
    return None


def _child(main: Callable[[Sequence[str]], int], argv: Sequence[str], write: int) -> int:
    global _channel
    _channel = write
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    try:
        code = main(argv)
    except SystemExit as exc:
        notify("end", exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1))
        _ending()
        raise
    notify("end", code)
    _ending()
    return code


def _ending() -> None:
    """The run's process ends next: keep its objects out of the garbage collections the interpreter runs while it
    shuts down (``gc.freeze``). With pytest, Hypothesis, the twin and the renderers loaded they took ~0.5 s of every
    run's wall time, after its last line, to free memory the operating system takes back at exit anyway. What must
    happen at exit still does: ``atexit`` handlers and ``weakref.finalize`` (temporary folders) run as before."""
    gc.freeze()


def _judge(pid: int, status: int, messages: dict[str, str]) -> int:
    code = os.waitstatus_to_exitcode(status)
    out = Path(messages["out"]) if messages.get("out") else None
    if "end" in messages:
        ended = int(messages["end"]) if messages["end"].lstrip("-").isdigit() else 1
        if out is not None and ended in (0, 1):
            problem = _record_problem(out)
            if problem is not None:
                print(f"bluum-readiness: error: the run ended without a complete record: {problem}", file=sys.stderr)
                return 1
        return code if code >= 0 else ended
    if code < 0:
        name = signal.Signals(-code).name
        how = f"was killed by {name}"
    else:
        how = (
            f"exited (code {code}) before the run finished: something in it ended the process (an integration "
            "module that calls os._exit or exit() when imported or called?)"
        )
    record = ""
    if out is not None:
        from bluum_readiness.cli._lock import release_for

        release_for(out, pid)
        problem = _record_problem(out)
        record = (
            f"; {problem}: nothing of this run is recorded"
            if problem
            else f"; {out / 'readiness.json'} is complete but the report files may be missing (re-render them with "
            f"`bluum-readiness report {out / 'readiness.json'}`)"
        )
    print(f"bluum-readiness: error: the run's process {how}{record}", file=sys.stderr)
    return 130 if code in (-signal.SIGINT, -signal.SIGTERM) else 1


def supervise(main: Callable[[Sequence[str]], int], argv: Sequence[str]) -> int:
    """Run ``main(argv)`` in a supervised child process (see the module docstring); its exit code."""
    if not hasattr(os, "fork"):
        return main(argv)
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the run
        os.close(read)
        return _child(main, argv, write)
    os.close(write)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):
            if signum == signal.SIGINT:
                os.killpg(pid, signal.SIGINT)
            else:
                os.kill(pid, signum)

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, forward)
    try:
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except ChildProcessError:
                return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    try:
        return _judge(pid, status, _messages(read))
    except KeyboardInterrupt:  # a Ctrl-C after the run ended, while its record is checked
        return 130
