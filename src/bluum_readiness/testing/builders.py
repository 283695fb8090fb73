"""Builders of valid request bodies; override any field, e.g. ``investor_profile(last_name="Documents")``."""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["investor_profile", "manual_bank", "plaid_bank"]


def investor_profile(**overrides: Any) -> dict[str, Any]:
    """A complete, valid ``POST /investors`` body for a US individual with a unique email."""
    profile: dict[str, Any] = {
        "account_type": "individual",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1990-12-10",
        "tax_id": "444-55-4321",
        "tax_id_type": "SSN",
        "country_of_citizenship": "US",
        "country_of_birth": "US",
        "country_of_tax_residence": "US",
        "funding_source": ["employment_income"],
        "annual_income": {"min": "50000", "max": "99999"},
        "liquid_net_worth": {"min": "25000", "max": "49999"},
        "email": f"ada+{uuid.uuid4().hex[:12]}@example.com",
        "phone": "+14155550123",
        "address": {
            "street": ["1 Analytical Way"],
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94105",
            "country": "US",
        },
        "is_control_person": False,
        "is_affiliated_exchange_or_finra": False,
        "is_politically_exposed": False,
        "immediate_family_exposed": False,
        "employment_status": "employed",
        "employer_name": "Analytical Engines Ltd",
        "employment_position": "Engineer",
        "signed_agreements": [
            {"type": "investor_agreement", "signed_at": "2026-01-01T00:00:00Z", "ip_address": "127.0.0.1"},
            {"type": "margin_disclosure_acknowledged", "signed_at": "2026-01-01T00:00:00Z", "ip_address": "127.0.0.1"},
        ],
    }
    profile.update(overrides)
    return profile


def plaid_bank() -> dict[str, Any]:
    """A Plaid connect body with a sandbox public token (the twin accepts ``public-sandbox-*``)."""
    return {"type": "plaid", "public_token": f"public-sandbox-{uuid.uuid4()}"}


def manual_bank(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "manual",
        "bank_name": "Choice Financial Group",
        "account_holder_name": "Ada Lovelace",
        "account_number": "000123456789",
        "routing_number": "091311229",
        "bank_account_type": "CHECKING",
    }
    body.update(overrides)
    return body
