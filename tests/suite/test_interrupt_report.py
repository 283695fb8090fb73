"""pytest's report of an interrupt must not fail on a traceback entry without a line number (Python 3.11 leaves
one where a signal lands in some instructions): a stopped run then ended as an internal error, exit 1, not 130."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from _pytest._code.code import Traceback, TracebackEntry

from bluum_readiness.suite.listener import INTERRUPT_TRACEBACK_ENTRIES, reportable_traceback


def _entry(lineno: int | None) -> TracebackEntry:
    frame = sys._getframe()
    return TracebackEntry(SimpleNamespace(tb_lineno=lineno, tb_frame=frame, tb_next=None, tb_lasti=0))  # type: ignore[arg-type]


def test_entries_without_a_line_number_are_left_out_of_the_interrupts_report() -> None:
    excinfo = SimpleNamespace(traceback=Traceback([_entry(12), _entry(None), _entry(40)]))
    try:
        [entry.lineno for entry in excinfo.traceback]
    except TypeError:
        pass  # what pytest's report of the interrupt met
    else:
        raise AssertionError("the stand-in entry should fail as the real one did")
    reportable_traceback(excinfo)
    assert [entry.lineno for entry in excinfo.traceback] == [11, 39]


def test_a_traceback_that_cannot_be_repaired_is_left_as_it_is() -> None:
    excinfo = SimpleNamespace()  # no traceback at all: the repair must not raise while a run is stopping
    reportable_traceback(excinfo)
    assert vars(excinfo) == {}


def test_the_report_of_an_interrupt_shows_only_where_it_landed() -> None:
    """pytest renders every entry with its source (parsing its file) to print one line, where the signal landed: a
    run's ~50-deep stack cost ~0.5 s of CPU as it stopped. The innermost entries are kept."""
    entries = [_entry(n) for n in range(10, 60)]
    excinfo = SimpleNamespace(traceback=Traceback(entries))
    reportable_traceback(excinfo)
    assert isinstance(excinfo.traceback, Traceback)
    assert [entry.lineno for entry in excinfo.traceback] == list(range(59 - INTERRUPT_TRACEBACK_ENTRIES, 59))
    assert INTERRUPT_TRACEBACK_ENTRIES >= 3
