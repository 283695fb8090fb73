"""Test kit shipped with the package: builders of valid Bluum request bodies (teams need them too)."""

from bluum_readiness.testing.builders import investor_profile, manual_bank, plaid_bank

__all__ = ["investor_profile", "manual_bank", "plaid_bank"]
