"""The readiness suite's pytest wiring: options, the ``checklist`` marker, and the harness fixtures."""
