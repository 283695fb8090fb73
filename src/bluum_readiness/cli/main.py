"""``bluum-readiness``: the entry point. Each subcommand lives in its own module with ``add_parser``/``run``.

Exit codes: 0 ok (for ``run``: no failure), 1 a required item failed, 2 usage or configuration error, 3 target
unreachable or credentials rejected, 130 interrupted (Ctrl-C, SIGTERM). User mistakes end with one clear line, never
a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bluum_readiness import __version__
from bluum_readiness.cli import init, proxy, report, run, sandbox, smoke, tour
from bluum_readiness.errors import HarnessError

COMMANDS = (run, report, init, sandbox, tour, proxy, smoke)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bluum-readiness",
        description="Prove a Bluum Finance API integration is ready for production access.",
    )
    parser.add_argument("--version", action="version", version=f"bluum-readiness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except HarnessError as exc:
        print(f"bluum-readiness: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM during ``run`` (suite.listener.Terminated)
        print("bluum-readiness: interrupted", file=sys.stderr)
        return 130
    return code


def entry() -> int:
    """The console command: ``main``, with ``run`` supervised by a parent process that checks its record was
    written whatever happened to the run's process (``cli._supervise``)."""
    argv = sys.argv[1:]
    if argv[:1] == ["run"]:
        from bluum_readiness.cli._supervise import supervise

        return supervise(main, argv)
    return main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
