"""What ``bluum-readiness run`` settles before anything runs: the phase's items (``--phase``; production kept to the
read-only smoke test), no demonstration under CI, no empty ``--out``, and caches kept out of the team's working
tree. See docs/cli.md."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from bluum_readiness.catalog import CUTOVER, READINESS, phase_items
from bluum_readiness.config import DEFAULT_INTEGRATION, RunConfig
from bluum_readiness.errors import ConfigError, HarnessError
from bluum_readiness.suite.results import environment_of
from bluum_readiness.target import parse_target

__all__ = [
    "PHASES",
    "RecordMissing",
    "caches_outside_the_project",
    "ci",
    "empty_out",
    "no_demonstration_under_ci",
    "user_cache_dir",
    "with_phase",
]

PHASES = ("readiness", "cutover", "all")


class RecordMissing(HarnessError):
    """The suite ended without writing readiness.json (exit 1: no run may pass without its record)."""

    exit_code = 1


CI_ENV = "CI"


def with_phase(config: RunConfig, phase: str) -> RunConfig:
    """``--phase`` as the items to run; against Bluum's production only the read-only smoke test (exit 2 else)."""
    remote = parse_target(config.target)
    production = remote is not None and environment_of({"mode": "remote", "host": remote.host}) == "production"
    if production:
        if phase != "cutover" or any(i != "smoke-test" for i in config.only):
            raise ConfigError(
                f"{config.target} is Bluum's production: only the read-only smoke test runs there; use "
                f"`bluum-readiness run --phase cutover --target {config.target}` or `bluum-readiness smoke`, and run "
                "the readiness items against the sandbox (https://sandbox.api.bluumfinance.com/v1)"
            )
        return config.override(only=["smoke-test"])
    if phase == "all":
        return config
    ids = phase_items(READINESS if phase == "readiness" else CUTOVER)
    outside = [i for i in config.only if i not in ids]
    if outside:
        raise ConfigError(
            f"--only {', '.join(outside)} is not in the {phase} phase ({', '.join(ids)}); drop it or use --phase all"
        )
    return config.override(only=list(config.only or ids))


def ci() -> bool:
    return os.environ.get(CI_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def no_demonstration_under_ci(args: argparse.Namespace, config: RunConfig) -> None:
    """A CI job in a folder without a configuration must not go green about the bundled reference integration."""
    if args.integration is None and config.integration == DEFAULT_INTEGRATION and ci():
        raise ConfigError(
            "no integration configured: run `bluum-readiness init` (it writes bluum-readiness.toml and an adapter "
            "template) or pass --integration MODULE:FACTORY; under CI (CI is set) the bundled reference "
            "integration is not run, as it would prove nothing about your code"
        )


def empty_out(config: RunConfig) -> None:
    if not config.out.strip():
        raise ConfigError(
            f"--out {config.out!r} is empty: pass the folder for the report files, e.g. --out ./readiness-out"
        )


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/bluum-readiness``, else ``~/.cache/bluum-readiness``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bluum-readiness"


HYPOTHESIS_ENV = "HYPOTHESIS_STORAGE_DIRECTORY"


@contextlib.contextmanager
def caches_outside_the_project() -> Iterator[None]:
    """Hypothesis (the money-invariants check) writes under the user's cache folder, not ``./.hypothesis`` in the
    team's repository; here and in the xdist workers (the environment), restored afterwards. A setting of the
    user's own wins."""
    before = os.environ.get(HYPOTHESIS_ENV)
    if before is None:
        os.environ[HYPOTHESIS_ENV] = str(user_cache_dir() / "hypothesis")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(HYPOTHESIS_ENV, None)
