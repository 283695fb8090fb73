"""Harness errors: problems with the tool, its configuration or its environment.

A harness error means the readiness suite could not do its job ("broken"); it
never means the integration under test is at fault. Conformance findings are a
separate family (see ``bluum_readiness.failures``) so that reports can tell the
two apart by exception type alone::

    HarnessError
     ├── ConfigError          bad configuration or CLI arguments (exit code 2)
     └── TargetUnavailable    the target cannot be reached or rejects our credentials (exit code 3)

Every message says what happened and what to do about it.
"""

from __future__ import annotations

__all__ = ["ConfigError", "HarnessError", "TargetUnavailable"]


class HarnessError(Exception):
    """The harness itself failed; the run's results for this check are "broken"."""

    exit_code: int = 2


class ConfigError(HarnessError):
    """A setting, config file entry or CLI argument is invalid. The message names it and the fix."""

    exit_code = 2


class TargetUnavailable(HarnessError):
    """The target API could not be reached, or it rejected the suite's credentials."""

    exit_code = 3
