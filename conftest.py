"""Wires the readiness suite (checklist/, lifecycle/, errors/, webhooks/) when pytest runs in a checkout."""

pytest_plugins = ["bluum_readiness.suite.plugin"]
