"""``Program``: one child process spoken to over JSON-RPC — overlapping requests, late answers, broken programs,
and its whole process group ended at close. Each case is a small scripted program over real pipes."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from bluum_readiness.protocol import program as program_module
from bluum_readiness.protocol.program import OutputLog, Program, ProgramBroken, ProgramTimeout
from tests.protocol.scripted import program


@pytest.fixture
def short_exit_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exit grace bounds what is waited for once a program exited (1 s), and the wait for a broken program's
    last stderr lines (0.5 s); the bounds are what matters here."""
    monkeypatch.setattr(program_module, "EXIT_GRACE_S", 0.3)
    monkeypatch.setattr(program_module, "LAST_LINES_S", 0.1)


def start(tmp_path: Path, body: str) -> Program:
    return Program(program(tmp_path, body), env=dict(os.environ), label="scripted")


def test_overlapping_requests_are_answered_by_id_in_any_order(tmp_path):
    p = start(
        tmp_path,
        """
        first, second = read(), read()
        answer(second, "second")   # the later request first
        answer(first, "first")
        read()
        """,
    )
    results: dict[str, object] = {}
    import threading

    def ask(name: str) -> None:
        results[name] = p.request(name, {}, 5.0).result

    one = threading.Thread(target=ask, args=("one",))
    one.start()
    time.sleep(0.05)  # make sure "one" is sent first
    two = threading.Thread(target=ask, args=("two",))
    two.start()
    one.join(5)
    two.join(5)
    assert results == {"one": "first", "two": "second"}
    p.terminate(1.0)


def test_a_late_answer_is_ignored_and_the_program_stays_usable(tmp_path):
    p = start(
        tmp_path,
        """
        slow = read()
        following = read()   # answers the request the suite gave up on only once the next one came
        answer(slow, "too late")
        answer(following, "on time")
        read()
        """,
    )
    with pytest.raises(ProgramTimeout, match="did not answer slow within 0.1 s"):
        p.request("slow", {}, 0.1)
    assert p.request("next", {}, 5.0).result == "on time"  # the late answer came first, on the same stdout
    p.terminate(1.0)


def test_a_program_that_exits_mid_call_is_broken_with_its_status_and_last_stderr_lines(tmp_path):
    p = start(
        tmp_path,
        """
        read()
        print("connecting to the ledger…", file=sys.stderr)
        print("FATAL: out of cheese", file=sys.stderr, flush=True)
        sys.exit(3)
        """,
    )
    with pytest.raises(ProgramBroken) as caught:
        p.request("deposit", {}, 5.0)
    message = str(caught.value)
    assert "exited (exit status 3)" in message
    assert "FATAL: out of cheese" in message and "connecting to the ledger" in message
    with pytest.raises(ProgramBroken):  # and every later request too, at once
        p.request("kyc_status", {}, 5.0)
    p.terminate(1.0)


def test_non_protocol_output_breaks_the_program_and_ends_it(tmp_path):
    p = start(
        tmp_path,
        """
        read()
        print("Server listening on :3000", flush=True)
        time.sleep(60)
        """,
    )
    with pytest.raises(
        ProgramBroken, match=r"not a JSON-RPC response to stdout .*'Server listening on :3000' \(the suite ended it\)"
    ):
        p.request("initialize", {}, 5.0)
    assert p.returncode == -signal.SIGKILL
    p.terminate(1.0)


def test_an_answer_to_a_request_never_sent_breaks_the_program(tmp_path):
    p = start(
        tmp_path,
        """
        request = read()
        request["id"] = 99
        answer(request, "?")
        time.sleep(60)
        """,
    )
    with pytest.raises(ProgramBroken, match="a response to request 99, which the suite never sent"):
        p.request("initialize", {}, 5.0)
    p.terminate(1.0)


def _ended(process: psutil.Process, timeout_s: float) -> bool:
    """Whether ``process`` is gone or a zombie within ``timeout_s``: an orphan killed with its group waits for init
    to reap it, which may take a second or two here (a zombie runs nothing)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def test_terminate_ends_the_whole_process_group_of_a_program_that_ignores_stdin_closing(tmp_path, monkeypatch):
    monkeypatch.setattr(program_module, "TERM_GRACE_S", 0.2)  # SIGTERM ignored: its 1 s is paid in full otherwise
    p = start(
        tmp_path,
        """
        signal_ignored = __import__("signal")
        signal_ignored.signal(signal_ignored.SIGTERM, signal_ignored.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        answer(read(), child.pid)
        while True:
            time.sleep(1)   # never reads stdin again, ignores SIGTERM
        """,
    )
    grandchild = psutil.Process(p.request("spawn", {}, 5.0).result)
    started = time.monotonic()
    p.terminate(grace_s=0.1)
    assert time.monotonic() - started < 5
    assert p.returncode == -signal.SIGKILL  # it ignored stdin closing and SIGTERM
    assert _ended(grandchild, 5), "the program's own child survived"


def test_a_program_that_exits_when_stdin_closes_is_not_killed(tmp_path):
    p = start(
        tmp_path,
        """
        while read() is not None:
            pass
        sys.exit(0)
        """,
    )
    p.terminate(grace_s=5.0)
    assert p.returncode == 0


def test_a_program_that_cannot_start_says_why(tmp_path):
    with pytest.raises(ProgramBroken, match="cannot start the integration program `nope`"):
        Program([str(tmp_path / "missing-binary")], env=dict(os.environ), label="nope")


def test_the_output_log_keeps_lines_in_order_and_counts_from_a_mark():
    log = OutputLog(maxlen=3)
    for n in range(5):
        log.append(f"line {n}\n".encode())
    assert log.tail(2) == ["line 3", "line 4"]
    assert log.since(3) == ["line 3", "line 4"]
    assert log.since(0) == ["line 2", "line 3", "line 4"]  # older lines were dropped
    assert log.mark() == 5 and log.since(5) == []
    log.append(b"caf\xc3\xa9 \xff\r\n")
    assert log.tail(1) == ["café \ufffd"]


def test_settle_waits_for_a_line_written_before_the_answer_that_was_just_read() -> None:
    """stdout and stderr are read by two threads: the response can be seen before the stderr line the program
    wrote ahead of it. ``settle`` after an answer waits ``quiet_s`` for such a line (a log check saw none, now and
    then, before this)."""
    log = OutputLog()
    with log._lock:  # a program that has been quiet for a while
        log._last_arrival -= 10
        log._last_answer -= 10
    log.answered()
    late = threading.Timer(0.02, lambda: log.append(b"written before the answer\n"))
    late.start()
    log.settle(quiet_s=0.2)
    late.join()
    assert log.tail(1) == ["written before the answer"]


DETACHED_CHILD = """
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
answer(read(), child.pid)   # the child holds our stdout and stderr, in a session of its own (setsid)
{then}
"""


def _end(pid: int) -> None:
    try:
        psutil.Process(pid).kill()
    except psutil.Error:
        pass


def test_a_detached_child_holding_stdout_does_not_hang_terminate(tmp_path, short_exit_grace):
    """The program exits when stdin closes, but a child it started with setsid keeps its stdout and stderr open: the
    readers never see EOF. terminate must not wait for that child (closing a pipe its reader is blocked on would)."""
    p = start(tmp_path, DETACHED_CHILD.format(then="while read() is not None:\n    pass\nsys.exit(0)"))
    child = p.request("spawn", {}, 5.0).result
    try:
        started = time.monotonic()
        p.terminate(grace_s=2.0)
        assert time.monotonic() - started < 4
        assert p.returncode == 0 and psutil.pid_exists(child)  # the child lives on (not in the program's group)
    finally:
        _end(child)


def test_a_program_that_exits_while_a_detached_child_holds_stdout_is_broken_not_waited_for(tmp_path, short_exit_grace):
    """Pending requests of a program that exited are woken within the exit grace, with why, not after their bound."""
    p = start(tmp_path, DETACHED_CHILD.format(then="read()\nsys.stderr.write('bye\\n')\nsys.exit(4)"))
    child = p.request("spawn", {}, 5.0).result
    try:
        started = time.monotonic()
        with pytest.raises(ProgramBroken) as caught:
            p.request("deposit", {}, 60.0)  # it reads this, then exits without answering
        assert time.monotonic() - started < 10
        message = str(caught.value)
        assert "exited, but a process it started outside its process group" in message and "setsid" in message
        assert "exit status 4" in message
        started = time.monotonic()
        p.terminate(grace_s=1.0)
        assert time.monotonic() - started < 4
    finally:
        _end(child)


def test_a_programs_stderr_is_kept_as_a_terminal_shows_it() -> None:
    """Colour codes (control sequences, an operating system command setting a title) taken out, other text kept."""
    log = OutputLog()
    log.append(b"\x1b[2m12:00:01\x1b[0m \x1b[32mINFO\x1b[0m \x1b[1mPOST /v1/investors -> 201 (req_1)\x1b[0m\n")
    log.append(b"\x1b]0;acme\x07plain \x1b[38;5;196mred\x1b[m tab\there\r\n")
    assert log.since(0) == ["12:00:01 INFO POST /v1/investors -> 201 (req_1)", "plain red tab\there"]
