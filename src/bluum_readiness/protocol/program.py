"""One running protocol program: its process group, the JSON-RPC channel over its stdin/stdout, and its stderr.

- Requests may overlap: any thread may ``request`` while others wait; one reader thread matches each response to
  its request by id. A response to a request the suite gave up on is ignored.
- stderr is the integration's log: a second reader thread keeps its lines (``OutputLog``).
- A program that exits, closes stdout, or writes anything but JSON-RPC responses there is *broken*: every
  pending and later request raises ``ProgramBroken``, whose message has the exit status and the last lines of
  stderr. A request the program does not answer within its bound raises ``ProgramTimeout``.
- ``terminate`` closes stdin, waits ``grace_s`` for the program to exit, then ends its whole process group
  (SIGTERM, then SIGKILL ``TERM_GRACE_S`` later). Programs still running when the interpreter exits are ended too.
- A process the program started outside its group (``setsid``) that keeps its stdout or stderr open cannot make the
  suite wait: once the program has exited, its pipes get ``EXIT_GRACE_S`` to end; after that the program is broken
  (saying so) and ``terminate`` leaves the pipes to their reader threads instead of waiting for them.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from bluum_readiness._terminal import as_displayed
from bluum_readiness.integration import IntegrationError
from bluum_readiness.protocol.wire import ProtocolViolation, Response, decode_response, encode_request

__all__ = ["OutputLog", "Program", "ProgramBroken", "ProgramTimeout", "terminate_all"]

log = logging.getLogger(__name__)

EXIT_GRACE_S = 1.0  # once the program exited: how long its stdout and stderr may take to end (drained, closed)
TERM_GRACE_S = 1.0  # after SIGTERM to its group: how long a program may take to clean up before SIGKILL
LAST_LINES_S = 0.5  # once a program broke: how long its stderr may take to close (the last lines it wrote)
HELD_OPEN = (
    "a process it started outside its process group (e.g. with setsid) still holds its stdout or stderr open — "
    "end such processes when the program exits, or start them with their output redirected"
)
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # one response line (a long request_log() may be large)
MAX_LOG_LINE_BYTES = 64 * 1024  # one stderr line; longer lines are split
STDERR_TAIL_LINES = 12


class ProgramBroken(IntegrationError):
    """The integration program cannot be driven any more (it exited, or broke the protocol): *broken*."""


class ProgramShutDown(ProgramBroken):
    """The program cannot be driven because the suite shut it down (the check or the run was ending): no fault of
    the program's, so nothing stops the run for it."""


class ProgramTimeout(IntegrationError):
    """The integration program did not answer a request within its bound."""


class OutputLog:
    """The program's stderr, one entry per line (decoded as UTF-8, undecodable bytes replaced), as a terminal shows
    it: colour codes taken out (``_terminal.as_displayed``), so the log checks read what the line says.

    Lines are numbered from 0 in arrival order; ``mark`` is the number of the next line, so ``since(mark)`` gives
    what arrived after it. The most recent ``maxlen`` lines are kept.
    """

    def __init__(self, maxlen: int = 20_000) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=maxlen)
        self._count = 0
        self._bytes = 0
        self._last_arrival = self._last_answer = time.monotonic()
        self._lock = threading.Lock()
        self.closed = threading.Event()

    def append(self, raw: bytes) -> None:
        line = as_displayed(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        with self._lock:
            self._lines.append(line)
            self._count += 1
            self._bytes += len(raw)
            self._last_arrival = time.monotonic()

    def mark(self) -> int:
        with self._lock:
            return self._count

    def since(self, mark: int) -> list[str]:
        with self._lock:
            first_kept = self._count - len(self._lines)
            return list(self._lines)[max(0, mark - first_kept) :]

    def tail(self, n: int) -> list[str]:
        with self._lock:
            return list(self._lines)[-n:] if n > 0 else []

    @property
    def byte_count(self) -> int:
        with self._lock:
            return self._bytes

    def answered(self) -> None:
        """The program's stdout just delivered a response: lines it wrote to stderr before it may still be on their
        way through the other pipe, so ``settle`` waits ``quiet_s`` from now too."""
        with self._lock:
            self._last_answer = time.monotonic()

    def settle(self, quiet_s: float = 0.05, timeout_s: float = 1.0) -> None:
        """Wait until no line has arrived, and no response was answered, for ``quiet_s`` (or stderr closed, or
        ``timeout_s`` passed): lines the program wrote just before answering its last request are then in (the two
        pipes are read by two threads, so a response can be seen before the stderr line written ahead of it)."""
        deadline = time.monotonic() + timeout_s
        while not self.closed.is_set():
            now = time.monotonic()
            with self._lock:
                quiet_until = max(self._last_arrival, self._last_answer) + quiet_s
            if now >= quiet_until or now >= deadline:
                return
            self.closed.wait(min(quiet_until, deadline) - now)


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    response: Response | None = None


_LIVE: weakref.WeakSet[Program] = weakref.WeakSet()


class Program:
    """Start ``argv`` (no shell) in its own process group with ``env``; ``label`` names it in messages."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str], label: str) -> None:
        self.label = label
        self.stderr = OutputLog()
        try:
            self._process = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                start_new_session=True,  # its own process group, ended as a whole
            )
        except OSError as exc:
            raise ProgramBroken(
                f"cannot start the integration program `{label}`: {exc.strerror or exc} — check the command after "
                "exec: (it runs without a shell, in the current folder)"
            ) from None
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._next_id = 1
        self._broken: ProgramBroken | None = None
        self._stopping = False
        self._ended_by_suite = False  # the suite killed it (a protocol violation): its signal is not its own doing
        self._readers = [
            threading.Thread(target=self._read_stdout, name="bluum-adapter-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name="bluum-adapter-stderr", daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        threading.Thread(target=self._watch_exit, name="bluum-adapter-exit", daemon=True).start()
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.poll()

    # -- requests -------------------------------------------------------------------------------------------

    def request(self, method: str, params: dict[str, Any], timeout_s: float) -> Response:
        """Send one request and wait (at most ``timeout_s``) for its response."""
        pending = _Pending()
        with self._state_lock:
            if self._broken is not None:
                raise self._broken
            request_id = self._next_id
            self._next_id += 1
            self._pending[request_id] = pending
        line = encode_request(request_id, method, params)
        try:
            with self._write_lock:
                stdin = self._stdin()
                stdin.write(line)
                stdin.flush()
        except (OSError, ValueError):  # the pipe is gone: the program exited or closed stdin
            self._forget(request_id)
            raise self._fail("stopped reading its stdin") from None
        if not pending.done.wait(timeout_s):
            self._forget(request_id)
            raise ProgramTimeout(
                f"the integration program `{self.label}` did not answer {method} within {timeout_s:g} s "
                f"(request id {request_id}){self._stderr_tail()}"
            )
        if pending.response is None:  # woken because the program broke
            assert self._broken is not None
            raise self._broken
        return pending.response

    def _stdin(self) -> IO[bytes]:
        stdin = self._process.stdin
        if stdin is None or stdin.closed:
            raise ValueError("stdin is closed")
        return stdin

    def _forget(self, request_id: int) -> None:
        with self._state_lock:
            self._pending.pop(request_id, None)

    # -- readers --------------------------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            self._read_responses(stdout)
        finally:  # the reader closes its own pipe: only it knows when it is done with it (see terminate)
            with contextlib.suppress(OSError):
                stdout.close()

    def _read_responses(self, stdout: IO[bytes]) -> None:
        for line in iter(lambda: stdout.readline(MAX_MESSAGE_BYTES + 1), b""):
            if not line.strip():
                continue
            try:
                if len(line) > MAX_MESSAGE_BYTES:
                    raise ProtocolViolation(f"a line of more than {MAX_MESSAGE_BYTES} bytes")
                response = decode_response(line)
                with self._state_lock:
                    if not 0 < response.id < self._next_id:
                        raise ProtocolViolation(f"a response to request {response.id}, which the suite never sent")
                    pending = self._pending.pop(response.id, None)
            except ProtocolViolation as exc:
                excerpt = line[:160].decode("utf-8", errors="replace").rstrip()
                self._ended_by_suite = True
                self._end_group(signal.SIGKILL)  # it cannot be driven any more
                self._fail(f"wrote something that is not a JSON-RPC response to stdout ({exc}): {excerpt!r}")
                return
            self.stderr.answered()
            if pending is not None:  # None: the suite gave up on that request; its late answer is ignored
                pending.response = response
                pending.done.set()
        with contextlib.suppress(subprocess.TimeoutExpired):  # stdout ends a moment before the exit is seen
            self._process.wait(timeout=1.0)
        self._fail("closed its stdout" if self._process.poll() is None else "exited")

    def _watch_exit(self) -> None:
        """When the program exits, its stdout ends — unless a process it started outside its process group (with
        ``setsid``, a daemon) still holds it open: then the stdout reader would wait for that process, and requests
        for their bound. Once the program has exited and its stdout has not ended within ``EXIT_GRACE_S``, the program
        is broken, saying why."""
        self._process.wait()
        self._readers[0].join(EXIT_GRACE_S)
        if self._readers[0].is_alive():
            self._fail(f"exited, but {HELD_OPEN}")

    def _read_stderr(self) -> None:
        stderr = self._process.stderr
        assert stderr is not None
        try:
            for line in iter(lambda: stderr.readline(MAX_LOG_LINE_BYTES), b""):
                self.stderr.append(line)
        finally:
            with contextlib.suppress(OSError):
                stderr.close()
            self.stderr.closed.set()

    # -- breaking and ending --------------------------------------------------------------------------------

    def _fail(self, what: str) -> ProgramBroken:
        """Mark the program broken (first reason wins) and wake every pending request."""
        with self._state_lock:
            already, stopping = self._broken, self._stopping
        if already is None:  # described outside the lock: it waits a little for the exit status and last lines
            shut_down = f"the integration program `{self.label}` was shut down"
            found = ProgramShutDown(shut_down) if stopping else ProgramBroken(self._describe(what))
        with self._state_lock:
            if self._broken is None:
                self._broken = found
            pending, self._pending = list(self._pending.values()), {}
            broken = self._broken
        for waiter in pending:
            waiter.done.set()
        return broken

    def _describe(self, what: str) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=1.0)
        self.stderr.closed.wait(LAST_LINES_S)  # the last lines it wrote before dying
        status = self._process.poll()
        if status is None:
            how = "it is still running"
        elif status < 0 and self._ended_by_suite:
            how = "the suite ended it"
        elif status < 0:
            how = f"it was ended by signal {signal.Signals(-status).name}"
        else:
            how = f"exit status {status}"
        return f"the integration program `{self.label}` {what} ({how}){self._stderr_tail()}"

    def _stderr_tail(self) -> str:
        lines = self.stderr.tail(STDERR_TAIL_LINES)
        if not lines:
            return "; it wrote nothing to stderr"
        return "; the last lines of its stderr:\n" + "\n".join(f"    {line}" for line in lines)

    def terminate(self, grace_s: float = 2.0) -> None:
        """Close stdin, give the program ``grace_s`` to exit, then end its process group; join the readers."""
        with self._state_lock:
            self._stopping = True
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            self._stdin().close()
        try:
            self._process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self._end_group(signal.SIGTERM)
            try:
                self._process.wait(timeout=TERM_GRACE_S)
            except subprocess.TimeoutExpired:
                self._end_group(signal.SIGKILL)
                self._process.wait()
        self._end_group(signal.SIGKILL)  # anything it left running in its group
        deadline = time.monotonic() + EXIT_GRACE_S
        for reader in self._readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        held = [name for name, reader in zip(("stdout", "stderr"), self._readers, strict=True) if reader.is_alive()]
        if held:  # its reader is blocked on it: closing it would wait for that reader, i.e. for the other process
            log.warning(
                "the integration program `%s` exited, but %s (%s); the suite stopped waiting for it",
                self.label,
                HELD_OPEN,
                " and ".join(held),
            )
        # Each reader closes its pipe when it ends; one still blocked on a pipe held open elsewhere closes it when that
        # process lets go. Closing it here would wait for the reader (a buffered pipe's close takes its lock).
        _LIVE.discard(self)

    def _end_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, sig)


def terminate_all(grace_s: float = 0.0) -> None:
    """End every program still running (at interpreter exit, or when a run is interrupted)."""
    for program in list(_LIVE):
        with contextlib.suppress(Exception):
            program.terminate(grace_s)


atexit.register(terminate_all)
