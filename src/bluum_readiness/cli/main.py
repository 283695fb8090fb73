"""``bluum-readiness``: the entry point. Each subcommand lives in its own module with ``add_parser``/``run``.

Exit codes: 0 ok (for ``run``: no failure), 1 a required item failed, 2 usage or configuration error, 3 target
unreachable or credentials rejected, 130 interrupted (Ctrl-C, SIGTERM). User mistakes end with one clear line, never
a traceback.

This module imports nothing heavy, and neither does building the command line: each subcommand names the heavy
modules it needs (``imports``, its parser's default: pytest, uvicorn, the twin, …) and ``main`` imports only the
chosen command's, so ``--help``, ``init`` or ``report`` do not pay ~0.5 s of CPU for ``run``'s pytest and twin.
They are imported while SIGINT and SIGTERM are guarded (``_starting``), so a Ctrl-C or a SIGTERM that lands while
the tool is still starting ends it with the one line ``bluum-readiness: interrupted`` and exit 130, as it does
later, not a KeyboardInterrupt traceback out of an import (or, for SIGTERM, a silent 143).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

from bluum_readiness import __version__
from bluum_readiness._loopback import keep_loopback_direct
from bluum_readiness.errors import HarnessError

INTERRUPTED = 130


class _Stopped(KeyboardInterrupt):
    """SIGTERM while the tool was starting (before a subcommand installed its own handling)."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signal.Signals(signum).name)


@contextlib.contextmanager
def _starting() -> Iterator[None]:
    """SIGTERM raises ``_Stopped`` (a KeyboardInterrupt) while the block runs, as Ctrl-C raises KeyboardInterrupt;
    the handler that was there before is restored afterwards, so a subcommand installs its own (``run`` records an
    interrupted run; ``sandbox`` lets uvicorn shut down). Off the main thread (tests), nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGTERM)
    if before is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stop)
    try:
        yield
    finally:
        if before is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, before)


def _printable_anywhere() -> None:
    """A console whose encoding lacks a character the tool prints (an em dash, a check mark, a control picture): a
    Windows code page, a Latin-1 locale, ``PYTHONIOENCODING=ascii``. It shows ``?`` for that character instead of
    ending the command with a UnicodeEncodeError (``run`` ended with pytest's INTERNALERROR, exit 2, before its first
    check). Streams that are UTF-8, or that already choose their error handler, are left as they are."""
    for stream in (sys.stdout, sys.stderr):
        encoding, reconfigure = getattr(stream, "encoding", None), getattr(stream, "reconfigure", None)
        if not encoding or reconfigure is None or getattr(stream, "errors", None) != "strict":
            continue
        with contextlib.suppress(LookupError, ValueError, OSError):
            if codecs.lookup(encoding).name != "utf-8":
                reconfigure(errors="replace")


def build_parser() -> argparse.ArgumentParser:
    from bluum_readiness.cli import init, proxy, report, run, sandbox, smoke, tour

    parser = argparse.ArgumentParser(
        prog="bluum-readiness",
        description="Prove a Bluum Finance API integration is ready for production access.",
    )
    parser.add_argument("--version", action="version", version=f"bluum-readiness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in (run, report, init, sandbox, tour, proxy, smoke):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _printable_anywhere()
    keep_loopback_direct()  # a CI runner's HTTP_PROXY never carries the run's loopback traffic
    try:
        with _starting():
            parser = build_parser()
            args = parser.parse_args(argv)
            for module in getattr(args, "imports", ()):
                importlib.import_module(module)
        code: int = args.handler(args)
    except HarnessError as exc:
        print(f"bluum-readiness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (while starting, or during ``run``: suite.listener.Terminated)
        print("bluum-readiness: interrupted", file=sys.stderr)
        return INTERRUPTED
    return code


def entry() -> int:
    """The console command: ``main``, with ``run`` supervised by a parent process that checks its record was
    written whatever happened to the run's process (``cli._supervise``)."""
    _printable_anywhere()
    argv = sys.argv[1:]
    if argv[:1] == ["run"]:
        from bluum_readiness.cli._supervise import supervise

        return supervise(main, argv)
    return main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
