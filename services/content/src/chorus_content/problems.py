"""Business errors of the content service, as problem+json (see chorus_platform.problems)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chorus_platform.problems import ProblemError
from pydantic import ValidationError

from chorus_content.items.workflow import Action, ContentState, allowed_actions


class FourEyesViolation(ProblemError):
    status, type_slug, title = 403, "four-eyes", "Four-eyes rule"

    def __init__(self) -> None:
        super().__init__(
            "the author of an item may not approve it (four-eyes rule); "
            "another approver has to approve it",
            rule="four-eyes",
        )


class IllegalTransition(ProblemError):
    status, type_slug, title = 409, "illegal-transition", "Illegal state transition"

    def __init__(self, state: ContentState, action: Action | str) -> None:
        verb = action.value if isinstance(action, Action) else action
        super().__init__(
            f"cannot {verb} an item in state {state.value!r}",
            current_state=state.value,
            action=verb,
            allowed_actions=[a.value for a in allowed_actions(state)],
        )


class GuidelineViolations(ProblemError):
    status, type_slug, title = 422, "guideline-violations", "Content violates the guidelines"

    def __init__(self, violations: Sequence[dict[str, Any]]) -> None:
        where = ", ".join(dict.fromkeys(v["field"] for v in violations))
        super().__init__(
            f"blocked by the guidelines in: {where}",
            violations=list(violations),
        )


class InvalidFields(ProblemError):
    """A 422 in the shape of request validation errors, for rules checked past parsing
    (a category the tenant lacks, a merged PATCH that breaks a cross-field rule)."""

    status, type_slug, title = 422, "validation", "Invalid request"

    def __init__(self, errors: Sequence[dict[str, str]]) -> None:
        fields = ", ".join(sorted({e["field"] for e in errors}))
        super().__init__(f"Invalid value for: {fields}", errors=list(errors))

    @classmethod
    def field(
        cls, name: str, message: str, *, code: str = "invalid", where: str = "body"
    ) -> InvalidFields:
        return cls([_error(name.split("."), message, code, where)])

    @classmethod
    def from_validation(cls, exc: ValidationError) -> InvalidFields:
        errors = []
        for err in exc.errors(include_url=False):
            path = [str(part) for part in err["loc"]]
            errors.append(_error(path, err["msg"], err["type"], "body"))
        return cls(errors)


def _error(path: list[str], message: str, code: str, where: str) -> dict[str, str]:
    return {
        "field": ".".join(path),
        "in": where,
        "pointer": "/" + "/".join(path),
        "message": message,
        "code": code,
    }
