"""Who may call what: the gateway's route policy (RBAC for people, scopes for API keys).

Rules are checked in order and the first whose method and path pattern match
decides. Each service prefix ends with a catch-all, so a path inside a known
prefix never goes unjudged; an unknown prefix matches nothing and the router
answers 404. Services check again, more finely (an advocate's own account, the
four-eyes rule): the gateway's rules are the coarse outer wall, never the only one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from chorus_platform.identity import Role

from chorus_gateway.auth.principal import Principal

A, E, P, V = Role.ADMIN, Role.EDITOR, Role.APPROVER, Role.ADVOCATE
ANYONE = frozenset(Role)
READS = frozenset({"GET", "HEAD"})
ALL = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})


class Decision(Enum):
    ALLOW = "allow"
    NO_ROLE = "no-role"
    NO_SCOPE = "no-scope"


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    pattern: tuple[str, ...]
    """Path segments; `*` is one segment, a final `**` any rest (also none)."""
    roles: frozenset[Role] = frozenset()
    """People need one of these roles; empty: no person may call."""
    scopes: frozenset[str] = frozenset()
    """API keys need one of these scopes; empty: no API key may call."""
    public: bool = False

    def matches(self, method: str, segments: list[str]) -> bool:
        if method not in self.methods:
            return False
        pattern = self.pattern
        if pattern and pattern[-1] == "**":
            head = pattern[:-1]
            return len(segments) >= len(head) and _same(head, segments[: len(head)])
        return len(segments) == len(pattern) and _same(pattern, segments)

    def decide(self, principal: Principal) -> Decision:
        if principal.is_person:
            return Decision.ALLOW if principal.roles & self.roles else Decision.NO_ROLE
        return Decision.ALLOW if principal.scopes & self.scopes else Decision.NO_SCOPE


def _same(pattern: Iterable[str], segments: Iterable[str]) -> bool:
    return all(p == "*" or p == s for p, s in zip(pattern, segments, strict=True))


def rule(
    methods: Iterable[str] | str,
    path: str,
    roles: Iterable[Role] = (),
    scopes: Iterable[str] = (),
    *,
    public: bool = False,
) -> Rule:
    wanted = frozenset({methods} if isinstance(methods, str) else methods)
    if "GET" in wanted:
        wanted |= {"HEAD"}
    return Rule(wanted, tuple(_segments(path)), frozenset(roles), frozenset(scopes), public)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


CONTENT_R = ("content:read", "content:write", "content:approve")
RULES: tuple[Rule, ...] = (
    # -- public: the tracked-link redirect, discovery, docs, the built-in login
    rule(ALL, "/l/**", public=True),
    rule(ALL, "/.well-known/**", public=True),
    rule(READS, "/v1/openapi.json", public=True),
    rule(READS, "/v1/docs/**", public=True),
    rule("POST", "/v1/auth/login", public=True),
    rule("POST", "/v1/auth/password", ANYONE),
    # -- directory (the gateway's own); keys never manage keys: no escalation by key
    rule(READS, "/v1/directory/me", ANYONE),
    rule(READS, "/v1/directory/teams/**", ANYONE, ("directory:read", "directory:write")),
    rule(ALL, "/v1/directory/api-keys/**", {A}),
    rule(ALL - READS, "/v1/directory/tenant", {A}),
    rule(ALL, "/v1/directory/people/*/password", {A}),
    rule(READS, "/v1/directory/**", {A}, ("directory:read", "directory:write")),
    rule(ALL, "/v1/directory/**", {A}, ("directory:write",)),
    # -- content
    rule(READS, "/v1/content/items/*/audit", {A, E, P}, CONTENT_R),
    rule(READS, "/v1/content/**", ANYONE, CONTENT_R),
    rule("POST", "/v1/content/guidelines/check", ANYONE, CONTENT_R),
    rule("POST", "/v1/content/items/*/approve", {A, P}, ("content:approve",)),
    rule("POST", "/v1/content/items/*/reject", {A, P}, ("content:approve",)),
    rule("POST", "/v1/content/items/*/archive", {A}),
    rule(ALL, "/v1/content/guidelines/**", {A}),
    rule(ALL, "/v1/content/categories/**", {A}),
    rule(ALL, "/v1/content/items/**", {A, E}, ("content:write",)),
    rule(ALL, "/v1/content/**", {A}),
    # -- sharing: feeds and shares belong to people
    rule(ALL, "/v1/feed/**", ANYONE),
    rule("POST", "/v1/shares", ANYONE),
    rule(READS, "/v1/shares/**", ANYONE, ("sharing:read",)),
    rule(ALL, "/v1/shares/**", ANYONE),
    rule(ALL, "/v1/sharing/policy", {A}),
    rule(READS, "/v1/sharing/**", ANYONE, ("sharing:read",)),
    rule(ALL, "/v1/sharing/**", ANYONE),
    # -- metrics: program analytics are for admins and BI systems
    rule("POST", "/v1/metrics/reach-calculator", ANYONE, ("metrics:read", "metrics:write")),
    rule(READS, "/v1/metrics/**", {A}, ("metrics:read", "metrics:write")),
    rule(ALL, "/v1/metrics/**", {A}, ("metrics:write",)),
    # -- rewards and live leaderboards
    rule(READS, "/v1/rewards/rules/versions", {A}, ("rewards:admin",)),
    rule(READS, "/v1/rewards/**", ANYONE, ("rewards:read", "rewards:admin")),
    rule(ALL - {"POST"}, "/v1/rewards/**", {A}, ("rewards:admin",)),
    rule("POST", "/v1/rewards/**", ANYONE, ("rewards:admin",)),
    rule(READS, "/v1/leaderboards/**", ANYONE, ("rewards:read", "rewards:admin")),
)


class Policy:
    def __init__(self, rules: Iterable[Rule] = RULES) -> None:
        self.rules = tuple(rules)
        # Hot paths repeat (a leaderboard, a feed): remember their verdict per instance.
        self.match = functools.lru_cache(maxsize=4096)(self._match)  # type: ignore[method-assign]

    def match(self, method: str, path: str) -> Rule | None:
        return self._match(method, path)

    def _match(self, method: str, path: str) -> Rule | None:
        segments = _segments(path)
        for candidate in self.rules:
            if candidate.matches(method, segments):
                return candidate
        return None
