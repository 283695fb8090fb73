"""``lifecycle.full-journey``: the whole journey through the integration (investor, KYC, two banks, a deposit,
market and limit buys, a cancel, a withdrawal, positions and balances), judged step by step."""

from __future__ import annotations

import dataclasses
import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bluum_readiness.checks.judge import Facts, Passed, Unjudged, Verdict, judged
from bluum_readiness.checks.lifecycle._journey import (
    Journey,
    Stop,
    journey_trail,
    order_summary,
    plain_value,
    status_of,
    step_finding,
    target_failure,
)
from bluum_readiness.checks.lifecycle._shared import (
    CENT,
    ITEM,
    filled_value,
    order_body,
    price_of,
    to_decimal,
    wallet_of,
)
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.testing import investor_profile, manual_bank, plaid_bank

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

KYC_DOCUMENT: dict[str, Any] = {
    "document_type": "id_verification",
    "purpose": "KYC",
    "file_name": "passport.pdf",
    "content": b"%PDF-1.4\n% bluum-readiness KYC test document\n",
}


@scenario("journey", facts=("journey",))
def _full_journey(s: Scene) -> None:
    """The whole journey through the integration, step by step, until its end or the first step that shows a defect
    (what follows could not run): each step's record, and the steps this target cannot run."""
    h = s.h
    j = Journey(h, s.integration)
    try:
        _journey_steps(h, j)
    except Stop:
        s.fact("journey", {"steps": j.records, "skipped": j.skipped, "complete": False})
    else:
        s.fact("journey", {"steps": j.records, "skipped": j.skipped, "complete": True})


def _journey_steps(h: Harness, j: Journey) -> None:
    integration = j.integration
    twin = h.target.twin
    symbol = "MSFT"

    # Investor and KYC. In the twin, last name "Documents" holds KYC until a document is accepted, so the
    # upload is what unlocks the account; on a real sandbox it is an ordinary name.
    profile = investor_profile(last_name="Documents") if twin else investor_profile()
    investor = j.create("create investor", "create_investor", lambda: integration.create_investor(profile))
    j.create("upload KYC document", "upload_document", lambda: integration.upload_document(investor, {**KYC_DOCUMENT}))
    j.poll_integration(
        "KYC approved",
        "kyc_status() to report 'active' once KYC is approved",
        lambda: integration.kyc_status(investor),
        lambda s: s == "active",
        target=(f"/investors/{investor}", ("active",)),
        status="active",
    )

    # Banks: one Plaid, one manual; both must be real, distinct funding sources of the right type.
    plaid = j.create(
        "link Plaid bank", "link_bank_account", lambda: integration.link_bank_account(investor, plaid_bank())
    )
    manual = j.create(
        "link manual bank", "link_bank_account", lambda: integration.link_bank_account(investor, manual_bank())
    )
    for step, source_id, kind in (("link Plaid bank", plaid, "plaid"), ("link manual bank", manual, "manual")):
        source = h.call("GET", f"/investors/{investor}/funding-sources/{source_id}", expect=(200, 400, 404))
        found = source.get("type") if isinstance(source, dict) and "id" in source else None
        j.note(
            {
                "step": step,
                "kind": "bank",
                "bank": kind,
                "id": source_id,
                "found": found,
                "plaid": plaid,
                "manual": manual,
                "same_as_plaid": kind == "manual" and manual == plaid,
            }
        )

    # Deposit, settled at the target.
    deposit_amount = Decimal("10000.00")
    dep = j.create("deposit", "deposit", lambda: integration.deposit(investor, plaid, f"{deposit_amount:.2f}"))
    j.poll_target("deposit completes", f"/investors/{investor}/deposits/{dep}", "completed", resource_id=dep)

    # Orders: a market buy fills; a limit buy below the price rests, then (twin) fills when the price crosses.
    price = price_of(h, symbol)
    market_body = order_body("market", symbol, "buy", "2")
    market = j.create("market buy", "place_order", lambda: integration.place_order(investor, market_body))
    j.wait_order(investor, "market buy fills", market, "filled")
    buys = [market]
    limit_price = (price * Decimal("0.9")).quantize(CENT)
    limit_body = order_body("limit", symbol, "buy", "3", limit_price)
    limit = j.create("limit buy", "place_order", lambda: integration.place_order(investor, limit_body))
    j.wait_order(investor, "limit buy rests (below the price)", limit, "open")
    if twin:
        crossed = (price * Decimal("0.85")).quantize(CENT)
        h.sandbox("PUT", f"/prices/{symbol}", json={"price": f"{crossed:.2f}"})
        try:
            j.wait_order(investor, f"limit buy fills once the price crossed {limit_price}", limit, "filled")
        finally:
            h.sandbox("DELETE", f"/prices/{symbol}", expect=(200, 204, 404))
        buys.append(limit)
    else:
        j.skipped.append("limit buy fills when the price crosses: needs the twin's price control (real sandbox)")

    # Cancel a resting order far below the price.
    resting_body = order_body("limit", symbol, "buy", "1", Decimal("1.00"))
    resting = j.create("place order to cancel", "place_order", lambda: integration.place_order(investor, resting_body))
    j.wait_order(investor, "order to cancel rests at 1.00", resting, "open")
    j.run("cancel order", lambda: integration.cancel_order(investor, resting))
    j.wait_order(investor, "order cancelled", resting, "cancelled", cancel=True)
    if not twin:  # leave nothing resting on a real sandbox
        h.call("POST", f"/investors/{investor}/orders/{limit}/cancel", json={}, expect=(200, 201, 409))

    # Withdrawal, settled at the target.
    withdrawal_amount = Decimal("1000.00")
    wd = j.create("withdraw", "withdraw", lambda: integration.withdraw(investor, plaid, f"{withdrawal_amount:.2f}"))
    j.poll_target("withdrawal completes", f"/investors/{investor}/withdrawals/{wd}", "completed", resource_id=wd)

    # Positions and money add up (fills as the integration reports them; cash from the target's wallet).
    fills = [
        j.run("read fills", functools.partial(integration.get_order, investor, o))
        for o in dict.fromkeys([*buys, limit])
    ]
    filled = [o for o in fills if isinstance(o, dict) and status_of(o) == "filled"]
    bought = sum((to_decimal(o.get("filled_quantity")) for o in filled), Decimal(0))
    cost = sum((filled_value(o) for o in filled), Decimal(0))
    held = j.run("positions", lambda: integration.positions(investor))
    rows = [p for p in held or [] if isinstance(p, dict) and p.get("symbol") == symbol]
    quantity = sum((to_decimal(p.get("quantity")) for p in rows), Decimal(0))
    shown_fills = [plain_value(order_summary(o)) for o in fills]
    j.note(
        {
            "step": "position appears",
            "kind": "positions",
            "symbol": symbol,
            "bought": str(bought),
            "quantity": str(quantity),
            "rows": len(rows),
            "fills": shown_fills,
            "positions": [plain_value({k: p.get(k) for k in ("symbol", "quantity")}) for p in rows],
        }
    )
    wallet = wallet_of(h, investor)
    j.note(
        {
            "step": "balances add up",
            "kind": "balance",
            "expected": str(deposit_amount - cost - withdrawal_amount),
            "deposits": str(deposit_amount),
            "cost": str(cost),
            "withdrawals": str(withdrawal_amount),
            "balance": wallet.get("balance"),
            "fills": shown_fills,
            "wallet": {k: wallet.get(k) for k in ("balance", "available_balance", "buying_power")},
        }
    )


@judged(
    "lifecycle.full-journey",
    item=ITEM,
    title="A complete journey from new investor to withdrawal",
    needs=("journey.journey",),
)
def full_journey(facts: Facts) -> Verdict:
    journey = facts["journey.journey"]
    records: list[dict[str, Any]] = journey["steps"]
    skipped: list[str] = journey["skipped"]
    trail = journey_trail(records)
    for record in records:
        outage = target_failure(record)
        if outage is not None:
            return Unjudged(outage)
        finding = step_finding(record)
        if finding is not None:
            shown = {"failed_step": record["step"], "journey": trail, "skipped": skipped, **finding.evidence}
            return dataclasses.replace(finding, evidence=shown)
    if not journey["complete"]:
        return Unjudged("the journey ended before its last step")
    return Passed({"journey": trail, **({"skipped_steps": skipped} if skipped else {})})
