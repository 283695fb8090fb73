"""``bluum-readiness report``: re-render every report file from a readiness.json, or verify its digest.

``bluum-readiness report readiness.json --out DIR`` writes readiness.html, .pdf, .md, junit.xml, allure-results/
and the email (with the ``[company]`` details from bluum-readiness.toml) into DIR (default: the JSON's folder).
``bluum-readiness report --verify readiness.json`` recomputes the SHA-256 digest: exit 0 when it matches, 1 when
the report was altered after the run, 2 when the file is not a readiness report.
``bluum-readiness report --combine A.json B.json --out DIR`` merges runs of one integration (a sandbox run and a
twin run) into one readiness.json with its own digest, and renders it (``report.combine``). See docs/reports.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bluum_readiness.cli._out import RENDERED_FILES, writable_folder
from bluum_readiness.config import load_config
from bluum_readiness.errors import ConfigError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="re-render the report files from readiness.json, or --verify its evidence digest",
        description="Re-render readiness.html, readiness.pdf, readiness.md, junit.xml, allure-results/ and the "
        "production-access email (email.eml, email.txt) from a readiness.json, with the [company] details of "
        "bluum-readiness.toml; or, with --verify, check that the report was not altered since the run (exit 0 "
        "intact, 1 altered, 2 not a readiness report).",
    )
    p.add_argument("report", metavar="READINESS_JSON", nargs="+", help="the readiness.json a run wrote (or its folder)")
    p.add_argument(
        "--out",
        metavar="DIR",
        help=f"where to write the files (default: the folder of READINESS_JSON; with --combine: ./{COMBINED_OUT})",
    )
    p.add_argument(
        "--combine",
        action="store_true",
        help="merge the readiness.json files of several runs of the same integration (e.g. one against Bluum's "
        "sandbox, one against the twin) into one record and render it; runs of different integrations or "
        "configurations are refused",
    )
    p.add_argument(
        "--config", metavar="FILE", help="the configuration file with [company] (default: ./bluum-readiness.toml)"
    )
    p.add_argument("--verify", action="store_true", help="only recompute the SHA-256 digest and compare")
    p.set_defaults(handler=run)


def verify(path: str) -> int:
    from bluum_readiness.report.model import load_report, verdict_line, verify_digest

    document = load_report(path)
    ok, recorded, now = verify_digest(document)
    if ok:
        print(f"{path}: intact (sha256:{now}; verdict {verdict_line(document)})")
        return 0
    print(
        f"{path}: ALTERED - the report does not match its digest (recorded sha256:{recorded or 'none'}, "
        f"recomputed sha256:{now}); its evidence or verdict changed after the run: do not trust it, "
        "re-run bluum-readiness run",
        file=sys.stderr,
    )
    return 1


COMBINED_OUT = "readiness-combined"


def combine(args: argparse.Namespace) -> int:
    """Merge the records, write the combined readiness.json and render it."""
    from bluum_readiness.report.combine import combine as merge
    from bluum_readiness.report.model import load_report
    from bluum_readiness.report.provenance import request
    from bluum_readiness.report.render import render_all
    from bluum_readiness.suite.results import write_json

    documents = [(path, load_report(path)) for path in args.report]
    out = writable_folder(args.out if args.out is not None else COMBINED_OUT)
    for path in args.report:
        source = Path(path)
        if (source if source.is_dir() else source.parent).resolve() == out.resolve():
            raise ConfigError(
                f"--out {out} holds {path}, one of the records to combine; pass another --out (e.g. --out "
                f"{COMBINED_OUT})"
            )
    company = load_config(args.config).company
    combined = merge(documents)
    json_path = write_json(combined, out)
    document = load_report(json_path)
    rendered = render_all(document, out, company)
    print(f"combined {len(documents)} runs: {document['verdict_line']}")
    for path in [json_path, *rendered.files]:
        print(f"{path.name}{'/' if path.is_dir() else ''}: {path.resolve()}")
    assessed = request(document)
    if assessed.send_ready:
        print("production-access request: ready to send")
    else:
        print("production-access request: a DRAFT, not to be sent yet: " + "; ".join(assessed.missing))
    if rendered.email_skipped:
        kind = "error" if rendered.needs_company else "note"
        print(f"bluum-readiness: {kind}: {rendered.email_skipped}", file=sys.stderr)
        return 2 if rendered.needs_company else 0
    return 0


def run(args: argparse.Namespace) -> int:
    if args.combine:
        if args.verify:
            raise ConfigError("--verify checks one record and --combine merges several; use one of them")
        return combine(args)
    if len(args.report) != 1:
        raise ConfigError(
            f"pass one readiness.json (got {len(args.report)}); to merge several runs use --combine A.json B.json"
        )
    args.report = args.report[0]
    if args.verify:
        if args.out:
            raise ConfigError("--verify only checks the digest; drop --out (or drop --verify to re-render)")
        return verify(args.report)
    from bluum_readiness.report.model import load_report, verify_digest
    from bluum_readiness.report.render import render_all

    company = load_config(args.config).company
    document = load_report(args.report)
    ok, _, _ = verify_digest(document)
    if not ok:
        raise ConfigError(
            f"{args.report} does not match its digest (altered after the run); refusing to render it. "
            "Re-run bluum-readiness run (check with: bluum-readiness report --verify FILE)"
        )
    source = Path(args.report)
    folder = args.out if args.out is not None else (source if source.is_dir() else source.parent)
    out = writable_folder(folder, files=RENDERED_FILES)
    try:
        rendered = render_all(document, out, company)
    except Exception as exc:  # evidence of a shape no run writes (the schema leaves check evidence open), or a bug
        raise ConfigError(
            f"rendering {args.report} failed ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}): its evidence "
            "is not what a run of this version writes; if `bluum-readiness run` wrote it unchanged, please report "
            "this as a bug"
        ) from None
    for path in rendered.files:
        print(f"{path.name}{'/' if path.is_dir() else ''}: {path.resolve()}")
    if rendered.email_skipped:
        kind = "error" if rendered.needs_company else "note"
        print(f"bluum-readiness: {kind}: {rendered.email_skipped}", file=sys.stderr)
        return 2 if rendered.needs_company else 0
    return 0
