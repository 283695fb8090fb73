"""Checks of the ``observability`` item: a complete request log without secrets or personal data, failures logged,
and alerts that fire for the right reasons.

One module per scenario family, each with its judges: ``request_log`` (the ``mixed-traffic`` scenario and
``request-log``), ``failures_logged``, ``secrets_in_logs`` (``no-secrets-in-logs``, over ``mixed-traffic``),
``alerts`` (the four alert checks; ``_alert_watch`` is their shared fact and verdict) and ``personal_data``
(``no-personal-data-in-logs``, advisory); ``_captured`` records what the integration logged, secrets marked. They are
imported in the order the checks are registered, which is the order of the console and the report.
"""

# The order of these imports is the order the checks are registered (see above): keep it.
# isort: off
from bluum_readiness.checks.observability import request_log, failures_logged, secrets_in_logs, alerts, personal_data

# isort: on

__all__ = ["alerts", "failures_logged", "personal_data", "request_log", "secrets_in_logs"]
