"""``FaultEngine``: picks the rule for each request: matching, counting, ordering and dice, in one place.

Thread-safe and async-safe: ``select`` holds a lock and never awaits, so concurrent requests (threads of a
sync client, tasks of the proxy's event loop) see consistent counters.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from bluum_readiness.errors import ConfigError
from bluum_readiness.proxy.plan import Plan
from bluum_readiness.proxy.rules import FaultRule

__all__ = ["DuplicateRule", "FaultEngine"]


class DuplicateRule(ConfigError):
    """A rule with that name is already live."""


@dataclass
class _State:
    rule: FaultRule
    seen: int = 0  # requests that matched method and path
    applied: int = 0


class FaultEngine:
    """The live rules of one placement, their counters and the seeded RNG.

    For each request, every rule whose method and path match counts it as its next occurrence; the first
    rule (in plan order) whose window (``nth``/``first``/``count``) allows it and whose probability roll
    succeeds is applied. Rules with probability 1 (or 0) never consume a roll, so adding one does not
    change the other rules' dice.
    """

    def __init__(self, plan: Plan | None = None) -> None:
        self._lock = threading.Lock()
        self._states: list[_State] = []
        self._seed = 0
        self._rng = random.Random(0)
        self.set_plan(plan or Plan())

    @property
    def seed(self) -> int:
        return self._seed

    def set_plan(self, plan: Plan) -> None:
        """Replace every rule with ``plan``'s; counters restart and the RNG is re-seeded from ``plan.seed``."""
        with self._lock:
            self._states = [_State(rule) for rule in plan.rules]
            self._seed = plan.seed
            self._rng = random.Random(plan.seed)

    def plan(self) -> Plan:
        """The live rules as a plan (with the current seed)."""
        with self._lock:
            return Plan(tuple(s.rule for s in self._states), self._seed)

    def add_rule(self, rule: FaultRule) -> None:
        """Append ``rule`` (lowest priority). A name already in use is a ``ConfigError``."""
        with self._lock:
            if any(s.rule.name == rule.name for s in self._states):
                raise DuplicateRule(f"a rule named {rule.name!r} exists; remove it first or pick another name")
            self._states.append(_State(rule))

    def remove_rule(self, name: str) -> bool:
        """Remove the rule called ``name``; False when there is none."""
        with self._lock:
            before = len(self._states)
            self._states = [s for s in self._states if s.rule.name != name]
            return len(self._states) != before

    def clear(self) -> None:
        """Remove every rule (the seed stays)."""
        with self._lock:
            self._states = []

    def reset(self) -> None:
        """Remove every rule and re-seed the RNG, as a fresh engine with the same seed."""
        with self._lock:
            self._states = []
            self._rng = random.Random(self._seed)

    def stats(self) -> list[dict[str, Any]]:
        """Each rule as a plan entry plus its counters ``seen`` and ``applied``."""
        with self._lock:
            return [{**s.rule.to_dict(), "seen": s.seen, "applied": s.applied} for s in self._states]

    def select(self, method: str, path: str) -> FaultRule | None:
        """The rule to apply to this request, or None to pass it through. Updates the counters."""
        with self._lock:
            chosen: FaultRule | None = None
            for state in self._states:
                rule = state.rule
                if not rule.matches(method, path):
                    continue
                state.seen += 1
                if chosen is None and rule.in_window(state.seen, state.applied) and self._roll(rule.probability):
                    state.applied += 1
                    chosen = rule
            return chosen

    def _roll(self, probability: float) -> bool:
        if probability >= 1.0:
            return True
        if probability <= 0.0:
            return False
        return self._rng.random() < probability
