from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluum_readiness.twin.domain import transitions as tr


def test_terminal_states_have_no_way_out():
    assert tr.TERMINAL == {"filled", "cancelled", "failed"}
    for status in tr.TERMINAL:
        assert tr.TRANSITIONS[status] == frozenset()
        assert tr.is_terminal(status)
    assert set(tr.STATUSES) == set(tr.TRANSITIONS) == tr.TERMINAL | tr.NON_TERMINAL


def test_transition_validation():
    assert tr.transition("pending", "open") == "open"
    assert tr.transition("open", "filled") == "filled"
    with pytest.raises(tr.InvalidTransition, match="already filled"):
        tr.transition("filled", "cancelled")
    with pytest.raises(tr.InvalidTransition, match="cannot become pending"):
        tr.transition("open", "pending")
    with pytest.raises(tr.InvalidTransition, match="unknown order status"):
        tr.transition("accepted", "filled")
    with pytest.raises(ValueError):
        tr.is_terminal("accepted")


@given(st.lists(st.sampled_from(tr.STATUSES), max_size=30))
def test_random_transition_sequences_never_leave_a_terminal_state(targets):
    status = tr.PENDING
    reached_terminal = None
    for target in targets:
        try:
            status = tr.transition(status, target)
        except tr.InvalidTransition:
            assert not tr.can_transition(status, target)
            continue
        if reached_terminal is not None:
            pytest.fail(f"left terminal status {reached_terminal} for {target}")
        if tr.is_terminal(status):
            reached_terminal = status
    if reached_terminal is not None:
        assert status == reached_terminal


@given(st.sampled_from(tr.STATUSES), st.sampled_from(tr.STATUSES))
def test_every_status_has_an_event_and_transitions_agree(current, target):
    assert current in tr.EVENT_FOR
    assert tr.can_transition(current, target) == (target in tr.TRANSITIONS[current])
    if tr.can_transition(current, target):
        assert not tr.is_terminal(current)
        assert target != tr.PENDING
