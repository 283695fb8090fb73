"""Calling the integration safely: one operation in a worker thread, bounded in time, its outcome as data.

The harness calls it with its own clock (``Harness.call``), so checks and scenarios never pass a clock by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bluum_readiness.integration import IntegrationError, describe_failure

__all__ = ["STOP_GRACE_S", "Call", "call"]

STOP_GRACE_S = 1.0
"""How long ``call`` lets an operation in flight finish when the run is interrupted while it waits."""


@dataclass
class Call:
    """What an integration operation did: its result, or the exception it raised, or that it never returned."""

    result: Any = None
    error: BaseException | None = None
    finished: bool = True

    @property
    def ok(self) -> bool:
        return self.finished and self.error is None

    def describe(self) -> str:
        if not self.finished:
            return "had not returned when the suite gave up waiting"
        if self.error is not None:
            info = describe_failure(self.error)
            return f"raised {info['exception']}: {info['message']}"
        return f"returned {self.result!r}"


def call(
    operation: Callable[[], Any],
    *,
    timeout: float = 30.0,
    give_up: Callable[[], bool] | None = None,
    clock: Callable[[], float] | None = None,
) -> Call:
    """Run one integration operation in a worker thread, bounded by ``timeout`` and, when given, until
    ``give_up()`` says the verdict is already clear (an operation that loops forever must not hang the suite).

    ``clock`` is the harness's (``h.clock``): with a virtual one (a virtual-time session), ``timeout`` is
    counted on it — an operation that returns after more than ``timeout`` virtual seconds had not returned when
    the suite gave up, exactly as over real sockets — and ``timeout`` real seconds still bound the wait.

    An ``IntegrationError`` (the adapter cannot be driven: an ``exec:`` program that exited or broke the
    protocol) is the harness's problem, not the operation's outcome: it is raised here."""
    outcome = Call(finished=False)
    virtual = clock is not None and clock is not time.monotonic
    now = clock if clock is not None else time.monotonic
    began = now()
    ended = [began]
    # An event, not Thread.join: on Python 3.11 a join interrupted by Ctrl-C marks the thread stopped while it
    # still runs (the interrupted acquire releases its state lock), and every later join returns at once.
    done = threading.Event()

    def run() -> None:
        try:
            outcome.result = operation()
        except BaseException as exc:  # the integration's failure is data for the check
            outcome.error = exc
        finally:
            ended[0] = now()
            outcome.finished = True
            done.set()

    worker = threading.Thread(target=run, name="integration-call", daemon=True)
    deadline = time.monotonic() + timeout
    try:
        worker.start()  # an interrupt can land while this waits for the worker to start, too
        while not done.wait(0.02) and time.monotonic() < deadline and now() - began <= timeout:
            if give_up is not None and give_up():
                break
    except BaseException:  # Ctrl-C or SIGTERM while waiting: the harness closes the integration next, so let the
        if worker.ident is not None:  # operation in flight end first (briefly), not have its client closed under it
            done.wait(STOP_GRACE_S)
        raise
    if isinstance(outcome.error, IntegrationError):
        raise outcome.error
    if virtual and outcome.finished and ended[0] - began > timeout:
        return Call(finished=False)  # it returned, but only after the suite would have stopped waiting
    return outcome
