"""The readiness suite (checklist/, lifecycle/, errors/, webhooks/) is wired by the ``bluum_readiness`` pytest plugin,
which pytest loads through its ``pytest11`` entry point (see pyproject.toml); nothing to load here."""
