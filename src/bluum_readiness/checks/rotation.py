"""The ``credential-rotation`` drill: rotate the key pair under live traffic, and prove nothing failed.

While a background thread runs a bounded stream of reads and writes through the integration, the drill
creates a new pair, proves it works on its own, hands it to the integration's secret source
(``h.credentials``, which the suite's own client follows too), watches the integration adopt it (the proxy
records each request's key id), revokes the old pair, and keeps the traffic going a little longer.

It passes when the old pair then gets 401, the new one works, and no operation failed from the hand-over to
the end. The session's credential store keeps the new pair, so later checks run with it (and the suite's
report scrubs it like the first). The report carries the runbook (``RUNBOOK``; docs/rotation-runbook.md).

In twin mode the twin's sandbox controls create and revoke the pair. Against a real environment the team
supplies the second pair (``[rotation]`` in the configuration, created in the dashboard); the suite cannot
revoke the old one there, so after a clean switch the drill is *not verifiable* and says what to do by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from bluum_readiness._client_tls import tls_context_for
from bluum_readiness.checks.judge import Facts, Finding, Unjudged, Verdict, judged
from bluum_readiness.checks.observation import Scene, scenario
from bluum_readiness.config import rotation_message
from bluum_readiness.errors import ConfigError
from bluum_readiness.failures import NotVerifiable
from bluum_readiness.harness import LOCAL_POLL_S, poll
from bluum_readiness.integration import Credentials, describe_failure

if TYPE_CHECKING:
    from bluum_readiness.harness import Harness

__all__ = ["RUNBOOK", "drill"]

ITEM = "credential-rotation"
CHECK = "credential-rotation.drill"
WARM_UP_OPS = 4  # successful operations with the old pair before the drill starts
AFTER_REVOKE_OPS = 6  # operations started after the revocation, all of which must succeed
MAX_OPS = 1000  # the traffic is bounded whatever happens (at most ~20 operations a second)

#: The rotation runbook, as the report shows it (docs/rotation-runbook.md is the long form).
RUNBOOK: dict[str, Any] = {
    "title": "Rotating the Bluum API key pair without downtime (every 90 days)",
    "document": "docs/rotation-runbook.md",
    "steps": [
        "Create the new key pair in the Bluum dashboard; paste the secret straight into your secret manager as a "
        "new version (it is shown once; never in a ticket, chat or config file).",
        "Verify the new pair on its own: `bluum-readiness smoke` with it answers 200.",
        "Make the new version current in the secret manager; every instance picks it up on its next read or "
        "cache expiry, without a restart.",
        "Watch adoption: your request log shows the new key id on every instance, and no 401s.",
        "Revoke the old pair in the dashboard; a straggler gets 401, re-reads the secret and retries once.",
        "Confirm: `bluum-readiness smoke` with the old pair answers 401, error rates and alerts stay quiet; note "
        "the date — the next rotation is due in 90 days.",
    ],
    "rollback": "Until the old pair is revoked, make the old version current again. After revocation there is no "
    "way back: create another pair and repeat from step 1.",
}


@dataclass
class _Op:
    name: str
    phase: str
    started: float
    finished: float = 0.0
    error: str | None = None
    status: int | None = None  # the API's status when it refused the operation
    ended_in: str = ""  # the phase when it returned or failed: an operation in flight at the revocation meets it


@dataclass
class _Traffic:
    """A background stream of the integration's reads and writes, each recorded with the drill phase it began and
    the one it ended in."""

    operations: list[tuple[str, Callable[[], Any]]]
    pause_s: float = 0.02  # between operations: ~50 a second with a local target (a real one: its rate limit)
    phase: str = "warm-up"
    ops: list[_Op] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="rotation-traffic", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for n in range(MAX_OPS):
            if self.stop.is_set():
                return
            name, operation = self.operations[n % len(self.operations)]
            op = _Op(name, self.phase, time.time())
            self.ops.append(op)
            try:
                operation()
            except Exception as exc:  # the integration's failure is what the drill looks for
                info = describe_failure(exc)
                op.error = f"{info['exception']}: {info['message']}"[:300]
                status = info.get("status", info.get("status_code"))
                op.status = status if isinstance(status, int) else None
            op.finished = time.time()
            op.ended_in = self.phase
            self.stop.wait(self.pause_s)

    def done(self, phase: str) -> list[_Op]:
        return [op for op in list(self.ops) if op.phase == phase and op.finished]

    def halt(self, timeout: float) -> bool:
        """Stop after the operation in progress; False if it did not return within ``timeout``."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout)
            return not self.thread.is_alive()
        return True


def _masked(key: str) -> str:
    """A key id as dashboards show it: enough to recognise, too little to match a secret scanner's pattern."""
    return f"{key[:15]}…{key[-4:]}" if len(key) > 24 else key


def _status_with(h: Harness, pair: Credentials) -> int:
    """The status of ``GET /assets?limit=1`` straight to the target with ``pair`` (never through the proxy)."""
    with httpx.Client(timeout=10.0, verify=tls_context_for(h.target.base_url)) as client:
        response = client.get(f"{h.target.base_url}/assets", params={"limit": "1"}, auth=(pair.key, pair.secret))
    return response.status_code


def _second_pair(h: Harness) -> Callable[[], Credentials]:
    """How to get the new pair: the twin creates it when asked; for a real environment the team's configured pair
    is read now, so a missing or broken source is reported before any traffic."""
    if h.target.twin:

        def create() -> Credentials:
            made = h.sandbox("POST", "/api-keys", json={"name": "bluum-readiness rotation drill"})
            return Credentials(str(made["key"]), str(made["secret"]))

        return create
    source = h.config.rotation
    if source is None:
        raise NotVerifiable(
            "against a real environment the drill needs a second key pair: create one in the Bluum dashboard and "
            'name its source in [rotation] (e.g. source = "env" with BLUUM_NEXT_API_KEY / BLUUM_NEXT_API_SECRET)'
        )
    try:
        pair: Credentials = source.resolve()
    except ConfigError as exc:
        raise ConfigError(rotation_message(str(exc))) from None
    if pair.key == h.credentials.current.key:
        raise NotVerifiable("the [rotation] pair is the current pair; create a second pair in the dashboard")
    return lambda: pair


def _order(h: Harness) -> dict[str, Any]:
    """A small market buy (a write that is cheap to repeat)."""
    price = Decimal(str(h.call("GET", "/assets/AAPL")["price"]))
    quantity = (Decimal(5) / price).quantize(Decimal("0.0001"))  # about $5
    return {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "quantity": str(quantity)}


@scenario("rotation-drill", facts=("drill",))
def _rotation_drill(s: Scene) -> None:
    """A new pair handed to the integration's secret source under continuous traffic, then the old pair revoked (the
    twin) or the traffic kept going on the new one (a real environment): every operation with the phase it began and
    ended in, and what each pair answers at the end."""
    h = s.h
    next_pair = _second_pair(h)
    integration = s.integration
    investor, bank = h.funded_investor()
    order = _order(h)
    traffic = _Traffic(
        [
            ("kyc_status", lambda: integration.kyc_status(investor)),
            ("deposit", lambda: integration.deposit(investor, bank, "1.00")),
            ("positions", lambda: integration.positions(investor)),
            ("place_order", lambda: integration.place_order(investor, dict(order))),
        ]
    )
    old = h.credentials.current
    steps: list[dict[str, Any]] = []
    evidence: dict[str, Any] = {"old_key": _masked(old.key), "steps": steps}
    s.evidence("rotation", evidence)
    s.evidence("runbook", RUNBOOK)
    timeout = s.thresholds.settle_timeout_s

    started = time.time()

    def step(name: str, **details: Any) -> None:
        steps.append({"step": name, "t_s": round(time.time() - started, 3), **details})

    traffic.start()
    h.on_close(lambda: traffic.halt(1.0))
    poll(
        lambda: traffic.done("warm-up"),
        lambda ops: len(ops) >= WARM_UP_OPS or any(o.error for o in ops),
        timeout,
        LOCAL_POLL_S,
    )
    warm = traffic.done("warm-up")
    failed_early = [o for o in warm if o.error]
    if failed_early or len(warm) < WARM_UP_OPS:
        traffic.halt(timeout)
        why = failed_early[0].error if failed_early else f"only {len(warm)} operations finished in {timeout:g} s"
        raise NotVerifiable(f"the integration's operations fail before any rotation ({why}); fix that first")
    step("traffic running", operations=len(warm))

    # 1. a new pair, proved on its own before anyone depends on it
    new = next_pair()
    evidence["new_key"] = _masked(new.key)
    status = _status_with(h, new)
    step("new pair created and verified on its own", status=status)
    if status != 200:
        traffic.halt(timeout)
        raise NotVerifiable(f"the new key pair is refused by the target (HTTP {status}); check the [rotation] source")

    # 2. hand it to the integration's secret source, and watch it being adopted
    mark = h.mark()
    traffic.phase = "handed-over"
    h.credentials.set(new)
    step("new pair handed to the secret source")
    adopted = poll(
        lambda: [x for x in h.proxy.exchanges(settle=0)[mark:] if x.auth_key_id == new.key and (x.status or 500) < 400],
        bool,
        min(timeout, 5.0),
        LOCAL_POLL_S,
    )
    step("integration adopted the new pair" if adopted else "integration had not adopted the new pair; revoking anyway")

    # 3. revoke the old pair, and keep going
    last_phase = "revoked" if h.target.twin else "switched"
    after_mark = len(h.proxy.exchanges(settle=0))  # what reaches the target from here on shows which pair is used
    if not h.target.twin:
        traffic.phase = "switched"
        step("traffic continues with the new pair (the old pair can only be revoked in the dashboard)")
    else:
        traffic.phase = "revoked"  # from the revoke request on: an operation that ends now may meet the revoked pair
        h.sandbox("POST", f"/api-keys/{old.key}/revoke")
        step("old pair revoked")
    poll(
        lambda: traffic.done(last_phase),
        lambda ops: len(ops) >= AFTER_REVOKE_OPS or any(o.error for o in ops),
        timeout,
        LOCAL_POLL_S,
    )
    returned = traffic.halt(timeout)
    after = h.proxy.exchanges()[after_mark:]
    reached = {
        "requests": len(after),
        "answered_with_new_pair": sum(1 for x in after if x.auth_key_id == new.key and (x.status or 500) < 400),
    }
    operations = [
        {
            "operation": o.name,
            "phase": o.phase,
            "ended_in": o.ended_in,
            "error": o.error,
            "status": o.status,
            "finished": bool(o.finished),
            "t_s": round(o.started - started, 3),
        }
        for o in traffic.ops
    ]
    evidence["operations"] = {
        phase: sum(1 for o in traffic.ops if o.phase == phase) for phase in dict.fromkeys(o.phase for o in traffic.ops)
    }
    evidence["failed_operations"] = [o for o in operations if o["error"] and o["phase"] != "warm-up"][:20]
    evidence["adopted_before_revocation"] = bool(adopted)
    evidence["reached_after_" + last_phase] = reached
    new_status = _status_with(h, new)
    old_status = _status_with(h, old) if h.target.twin else None
    step("final probe", new_pair_status=new_status, old_pair_status=old_status)
    s.fact(
        "drill",
        {
            "operations": operations,
            "returned": returned,
            "timeout_s": timeout,
            "last_phase": last_phase,
            "new_status": new_status,
            "old_status": old_status,
            "revoked": h.target.twin,
            "reached": reached,
        },
    )


@judged(
    CHECK,
    item=ITEM,
    title="Rotating the key pair under live traffic: old pair 401, new pair works, no failed operation",
    needs=("rotation-drill.drill",),
)
def drill(facts: Facts) -> Verdict:
    drilled: dict[str, Any] = facts["rotation-drill.drill"]
    after = [o for o in drilled["operations"] if o["phase"] != "warm-up"]
    failed = [o for o in after if o["error"]]
    later = [o for o in after if o["phase"] == drilled["last_phase"] and o["finished"]]
    timeout, revoked = drilled["timeout_s"], drilled["revoked"]
    problems: list[str] = []
    if failed:
        first = failed[0]
        begun = first["phase"]
        when = begun if first["ended_in"] in ("", begun) else f"{first['ended_in']}, begun {begun}"
        problems.append(
            f"{len(failed)} of {len(after)} operations failed during the drill, the first "
            f"{first['operation']}() ({when}): {first['error']}"
        )
    if not drilled["returned"]:
        problems.append(f"an operation had not returned {timeout:g} s after the drill ended")
    if len([o for o in later if not o["error"]]) < 1:
        problems.append(f"no operation succeeded after the {'revocation' if revoked else 'switch'}")
    if drilled["new_status"] != 200:
        problems.append(f"the new pair answers HTTP {drilled['new_status']} at the end")
    old_status = drilled["old_status"]
    if old_status is not None and old_status != 401:
        problems.append(f"the old pair still answers HTTP {old_status} after revocation (expected 401)")
    if problems:
        return Finding(
            # operations refused 401 once the old pair was revoked: the pair was read once and kept
            "credentials-cached" if failed and all(o["status"] == 401 for o in failed) else "",
            "with a new pair handed to the secret source and the old pair revoked: the old pair gets 401, the new one "
            "works, and not one operation of the continuous traffic fails",
            "; ".join(problems),
            "read the pair from your secret source for every request (or cache it briefly) and, on 401, read it again "
            "and retry once — see the rotation runbook in this report",
        )
    reached = drilled.get("reached") or {}
    if not reached.get("answered_with_new_pair"):
        moment = "revocation" if revoked else "switch"
        return Unjudged(
            f"{len(later)} operations returned after the {moment}, but none of the integration's requests after it "
            f"reached the target with the new pair ({reached.get('requests', 'no record of the')} requests in all): "
            "that it adopted the new pair could not be seen (an integration that answers without calling Bluum, or "
            "sends later, is judged on the requests it makes)"
        )
    if not revoked:
        return Unjudged(
            "the switch to the new pair caused no failed operation, but the suite cannot revoke the old pair in a "
            "real environment: revoke it in the Bluum dashboard, then `bluum-readiness smoke` with the old pair must "
            "answer 401 (the runbook is in the evidence)"
        )
    return None
