"""The approval workflow as an explicit state machine (pure: no I/O).

    draft ──submit──▶ in_review ──approve──▶ approved ──publish──▶ published ──expire──▶ expired
                      in_review ──reject───▶ rejected ──reopen──▶ draft
    draft, rejected, approved, published, expired ──archive──▶ archived

`publish` and `expire` are the scheduler's (or, for an approval whose
`publish_at` has passed, the approval's own) steps; people drive the rest.
Draft and rejected items may be archived too, to clear them from the library.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from chorus_platform.identity import Role


class ContentState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    REJECTED = "rejected"
    APPROVED = "approved"
    PUBLISHED = "published"
    EXPIRED = "expired"
    ARCHIVED = "archived"


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    REOPEN = "reopen"
    ARCHIVE = "archive"
    PUBLISH = "publish"
    EXPIRE = "expire"


S, A = ContentState, Action
TRANSITIONS: Final[dict[tuple[ContentState, Action], ContentState]] = {
    (S.DRAFT, A.SUBMIT): S.IN_REVIEW,
    (S.DRAFT, A.ARCHIVE): S.ARCHIVED,
    (S.IN_REVIEW, A.APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.REJECT): S.REJECTED,
    (S.REJECTED, A.REOPEN): S.DRAFT,
    (S.REJECTED, A.ARCHIVE): S.ARCHIVED,
    (S.APPROVED, A.PUBLISH): S.PUBLISHED,
    (S.APPROVED, A.ARCHIVE): S.ARCHIVED,
    (S.PUBLISHED, A.EXPIRE): S.EXPIRED,
    (S.PUBLISHED, A.ARCHIVE): S.ARCHIVED,
    (S.EXPIRED, A.ARCHIVE): S.ARCHIVED,
}

# Who may take each action a person can take (admins may do everything).
ACTION_ROLES: Final[dict[Action, frozenset[Role]]] = {
    A.SUBMIT: frozenset({Role.EDITOR, Role.ADMIN}),
    A.REOPEN: frozenset({Role.EDITOR, Role.ADMIN}),
    A.APPROVE: frozenset({Role.APPROVER, Role.ADMIN}),
    A.REJECT: frozenset({Role.APPROVER, Role.ADMIN}),
    A.ARCHIVE: frozenset({Role.ADMIN}),
}

EDITABLE: Final[frozenset[ContentState]] = frozenset({S.DRAFT, S.REJECTED})
"""States in which the content itself may still change."""
LIVE: Final[frozenset[ContentState]] = frozenset({S.APPROVED, S.PUBLISHED})
"""States advocates can read (approved items are scheduled to go live)."""


class IllegalTransition(Exception):
    def __init__(self, state: ContentState, action: Action) -> None:
        super().__init__(f"cannot {action.value} an item in state {state.value!r}")
        self.state = state
        self.action = action


def next_state(state: ContentState, action: Action) -> ContentState:
    """The state `action` leads to from `state`; IllegalTransition if it is not allowed."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


def allowed_actions(state: ContentState) -> list[Action]:
    """What people (not the scheduler) may do next with an item in `state`."""
    return [
        action for (source, action) in TRANSITIONS if source is state and action in ACTION_ROLES
    ]


def is_four_eyes_violation(author: str, actor: str, action: Action) -> bool:
    """The author of an item may not approve it, whatever roles they hold."""
    return action is Action.APPROVE and author == actor
