"""The ``bluum-readiness`` console script: ``cli.main.entry`` behind a guard that holds from the first line.

Python's own start-up is not ours, but everything after it is: this module imports nothing but ``signal`` and
``sys`` before it makes SIGINT and SIGTERM *remember* that they came (instead of a KeyboardInterrupt traceback out of
an import, or a silent 143). ``main`` then hands over to ``cli.main.entry`` (``run`` supervised by a parent,
``cli._supervise``), whose ``main`` guards the rest of the start-up itself; a signal that came meanwhile ends the
tool as any interruption does: exit 130 and one line. (Importing this module changes the process's signal handlers:
only the console script imports it; tests call ``cli.main.main``.)
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

_received: list[int] = []


def _remember(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)


_previous = {
    sig: signal.signal(sig, _remember)
    for sig in (signal.SIGINT, signal.SIGTERM)
    if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler)  # an ignored signal stays ignored
}


def main() -> int:
    from bluum_readiness.cli import main as cli

    for sig, previous in _previous.items():
        signal.signal(sig, previous)
    if _received:
        print("bluum-readiness: interrupted", file=sys.stderr)
        return cli.INTERRUPTED
    return cli.entry()
