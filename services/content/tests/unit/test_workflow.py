"""The approval state machine as a pure function."""

from __future__ import annotations

import pytest
from chorus_content.items.workflow import (
    ACTION_ROLES,
    TRANSITIONS,
    Action,
    ContentState,
    IllegalTransition,
    allowed_actions,
    is_four_eyes_violation,
    next_state,
)

S, A = ContentState, Action


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        (S.DRAFT, A.SUBMIT, S.IN_REVIEW),
        (S.IN_REVIEW, A.APPROVE, S.APPROVED),
        (S.IN_REVIEW, A.REJECT, S.REJECTED),
        (S.REJECTED, A.REOPEN, S.DRAFT),
        (S.APPROVED, A.PUBLISH, S.PUBLISHED),
        (S.PUBLISHED, A.EXPIRE, S.EXPIRED),
        (S.PUBLISHED, A.ARCHIVE, S.ARCHIVED),
        (S.EXPIRED, A.ARCHIVE, S.ARCHIVED),
    ],
)
def test_the_documented_path(state: ContentState, action: Action, expected: ContentState) -> None:
    assert next_state(state, action) is expected


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.DRAFT, A.APPROVE),
        (S.DRAFT, A.PUBLISH),
        (S.IN_REVIEW, A.SUBMIT),
        (S.IN_REVIEW, A.ARCHIVE),
        (S.REJECTED, A.SUBMIT),
        (S.REJECTED, A.APPROVE),
        (S.APPROVED, A.APPROVE),
        (S.APPROVED, A.EXPIRE),
        (S.PUBLISHED, A.PUBLISH),
        (S.EXPIRED, A.PUBLISH),
    ],
)
def test_illegal_transitions_name_the_current_state(state: ContentState, action: Action) -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_state(state, action)
    assert raised.value.state is state
    assert state.value in str(raised.value)


def test_archived_is_terminal() -> None:
    for action in Action:
        with pytest.raises(IllegalTransition):
            next_state(S.ARCHIVED, action)
    assert allowed_actions(S.ARCHIVED) == []


def test_people_are_offered_only_their_actions_never_the_schedulers() -> None:
    assert allowed_actions(S.APPROVED) == [A.ARCHIVE]
    assert allowed_actions(S.PUBLISHED) == [A.ARCHIVE]
    assert allowed_actions(S.IN_REVIEW) == [A.APPROVE, A.REJECT]
    assert A.PUBLISH not in ACTION_ROLES
    assert A.EXPIRE not in ACTION_ROLES


def test_every_state_but_archived_can_move_somewhere() -> None:
    sources = {state for (state, _) in TRANSITIONS}
    assert sources == set(ContentState) - {S.ARCHIVED}


def test_four_eyes_applies_to_the_author_approving_only() -> None:
    assert is_four_eyes_violation("alice", "alice", A.APPROVE)
    assert not is_four_eyes_violation("alice", "bob", A.APPROVE)
    assert not is_four_eyes_violation("alice", "alice", A.REJECT)
    assert not is_four_eyes_violation("alice", "alice", A.SUBMIT)
