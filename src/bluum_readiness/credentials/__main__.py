"""``python -m bluum_readiness.credentials``: the secret scan on its own.

    python -m bluum_readiness.credentials scan [--config FILE]       # findings as file:line: rule; exit 1 if any
                                                                      # (in git history: file:line in commit ID)
    python -m bluum_readiness.credentials baseline [--config FILE]   # accept today's findings in .secrets.baseline

Both use the ``[scan]`` settings of the configuration (bluum-readiness.toml, or [tool.bluum-readiness]).
``baseline`` records every current finding (review them first!), keeps the audit marks and the
``--exclude-files`` filters already in the file, and writes detect-secrets' format.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bluum_readiness.config import load_config
from bluum_readiness.credentials.history import HistoryResult
from bluum_readiness.credentials.scan import BASELINE_FILE, scan_configured, write_baseline
from bluum_readiness.errors import HarnessError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bluum_readiness.credentials", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["scan", "baseline"])
    parser.add_argument("--config", default=None, metavar="FILE", help="the bluum-readiness.toml to use")
    parser.add_argument("--output", default=None, metavar="FILE", help=f"baseline to write (default: {BASELINE_FILE})")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        result = scan_configured(config)
        if args.command == "baseline":
            target = Path(args.output or config.scan.baseline or BASELINE_FILE)
            count = write_baseline(result, target)
            print(f"wrote {count} entries to {target} ({result.files_scanned} files scanned); review them")
            return 0
    except HarnessError as exc:
        print(f"bluum-readiness: {exc}", file=sys.stderr)
        return exc.exit_code
    for finding in result.findings:
        print(finding)
    for past in result.history_findings:
        print(past)
    accepted = len(result.accepted) + len(result.history_accepted)
    print(
        f"{len(result.findings)} potential secret(s) in {result.files_scanned} files "
        f"({result.lines_scanned} lines, {result.bytes_scanned} bytes), "
        f"{len(result.history_findings)} more in git history ({_history_summary(result.history)}); "
        f"{accepted} accepted by the baseline or allow-list"
    )
    return 1 if result.findings or result.history_findings else 0


def _history_summary(history: HistoryResult) -> str:
    if not history.complete:
        read = (
            f"; {history.commits_judged} commits judged: {history.added_lines} added lines, {history.added_bytes} bytes"
            if history.ran
            else ""
        )
        return f"NOT JUDGED: {history.not_judged}{read}"
    more = f", more beyond [scan] history_depth = {history.depth}" if history.more_than_depth else ""
    return f"{history.commits} commits{more}: {history.added_lines} added lines, {history.added_bytes} bytes"


if __name__ == "__main__":
    sys.exit(main())
