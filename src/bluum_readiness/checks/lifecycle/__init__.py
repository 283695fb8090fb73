"""Checks of the ``lifecycle`` item: the whole journey through the team's integration, the error paths, money
invariants under random sequences of operations, and the webhook events of a journey.

The integration is driven through the fault proxy (no faults are installed here); the suite's own client
(``h.call``) reads the truth — transfer statuses, wallets, positions — and, in twin mode only, the sandbox
controls move prices, force KYC outcomes and expose the money ledger. Steps that need those controls are
skipped on a real sandbox and the skip is written into the evidence.

One module per check, each with its scenario and judge: ``full_journey``, ``error_paths``, ``money_invariants``,
``webhook_events``; ``_journey`` is the journey recorder the two journeys share, ``_shared`` the item's helpers.
They are imported in the order the checks are registered, which is the order of the console and the report.
"""

# The order of these imports is the order the checks are registered (see above): keep it.
# isort: off
from bluum_readiness.checks.lifecycle import full_journey, error_paths, money_invariants, webhook_events

# isort: on

__all__ = ["error_paths", "full_journey", "money_invariants", "webhook_events"]
