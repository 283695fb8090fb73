"""The order state machine, as pure data and functions (no I/O; property tests import it directly).

Statuses (Gen C): ``pending`` (accepted, not yet evaluated), ``open`` (resting: a limit price not reached or a
stop not triggered), ``partial``, ``filled``, ``cancelled``, ``failed``. ``filled``, ``cancelled`` and
``failed`` are terminal: nothing leaves them. ◆ The twin fills orders whole, so it never produces ``partial``;
the machine still allows it so a partially filled order behaves as Bluum documents.
"""

from __future__ import annotations

__all__ = [
    "CANCELLED",
    "EVENT_FOR",
    "FAILED",
    "FILLED",
    "InvalidTransition",
    "NON_TERMINAL",
    "OPEN",
    "PARTIAL",
    "PENDING",
    "STATUSES",
    "TERMINAL",
    "TRANSITIONS",
    "can_transition",
    "is_terminal",
    "transition",
]

PENDING = "pending"
OPEN = "open"
PARTIAL = "partial"
FILLED = "filled"
CANCELLED = "cancelled"
FAILED = "failed"

STATUSES: tuple[str, ...] = (PENDING, OPEN, PARTIAL, FILLED, CANCELLED, FAILED)
TERMINAL: frozenset[str] = frozenset({FILLED, CANCELLED, FAILED})
NON_TERMINAL: frozenset[str] = frozenset(STATUSES) - TERMINAL

TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({OPEN, PARTIAL, FILLED, CANCELLED, FAILED}),
    OPEN: frozenset({PARTIAL, FILLED, CANCELLED, FAILED}),
    PARTIAL: frozenset({PARTIAL, FILLED, CANCELLED, FAILED}),
    FILLED: frozenset(),
    CANCELLED: frozenset(),
    FAILED: frozenset(),
}

# The webhook event announcing arrival in a status (None: no event; ◆ pending → open is silent).
EVENT_FOR: dict[str, str | None] = {
    PENDING: "order.accepted",
    OPEN: None,
    PARTIAL: "order.partially_filled",
    FILLED: "order.filled",
    CANCELLED: "order.canceled",
    FAILED: "order.rejected",
}


class InvalidTransition(ValueError):
    """An order cannot move from one status to another."""

    def __init__(self, current: str, target: str) -> None:
        if current not in TRANSITIONS:
            reason = f"unknown order status {current!r}"
        elif target not in TRANSITIONS:
            reason = f"unknown order status {target!r}"
        elif current in TERMINAL:
            reason = f"the order is already {current} (a final status)"
        else:
            reason = f"an order that is {current} cannot become {target}"
        super().__init__(reason)
        self.current = current
        self.target = target


def is_terminal(status: str) -> bool:
    """True for a final status (filled, cancelled, failed)."""
    if status not in TRANSITIONS:
        raise ValueError(f"unknown order status {status!r}; known: {', '.join(STATUSES)}")
    return status in TERMINAL


def can_transition(current: str, target: str) -> bool:
    """True when an order in ``current`` may move to ``target``."""
    return target in TRANSITIONS.get(current, frozenset())


def transition(current: str, target: str) -> str:
    """The new status ``target``, or ``InvalidTransition`` when the move is not allowed."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
    return target
