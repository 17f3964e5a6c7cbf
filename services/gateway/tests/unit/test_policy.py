"""The route policy: first matching rule decides; people need roles, keys need scopes."""

from __future__ import annotations

from chorus_gateway.auth.principal import Principal, RateLimit
from chorus_gateway.routing.policy import Decision, Policy
from chorus_platform.identity import PrincipalKind, Role

POLICY = Policy()


def person(*roles: Role) -> Principal:
    return Principal("t", "p", PrincipalKind.PERSON, frozenset(roles), frozenset(), frozenset(),
                     RateLimit(60, 10))  # fmt: skip


def key(*scopes: str) -> Principal:
    return Principal("t", "k", PrincipalKind.API_KEY, frozenset(), frozenset(scopes), frozenset(),
                     RateLimit(60, 10))  # fmt: skip


def decide(method: str, path: str, who: Principal) -> Decision:
    rule = POLICY.match(method, path)
    assert rule is not None, (method, path)
    return rule.decide(who)


def test_public_routes() -> None:
    for method, path in (("GET", "/l/abc"), ("POST", "/v1/auth/login"),
                         ("GET", "/v1/openapi.json"), ("GET", "/.well-known/jwks.json"),
                         ("GET", "/v1/docs"), ("GET", "/v1/docs/assets/x.js")):  # fmt: skip
        rule = POLICY.match(method, path)
        assert rule is not None and rule.public, path
    assert not POLICY.match("POST", "/v1/auth/password").public  # type: ignore[union-attr]


def test_content_roles() -> None:
    assert decide("POST", "/v1/content/items", person(Role.EDITOR)) is Decision.ALLOW
    assert decide("POST", "/v1/content/items", person(Role.ADVOCATE)) is Decision.NO_ROLE
    assert decide("POST", "/v1/content/items/x/approve", person(Role.EDITOR)) is Decision.NO_ROLE
    assert decide("POST", "/v1/content/items/x/approve", person(Role.APPROVER)) is Decision.ALLOW
    assert decide("GET", "/v1/content/items/x/audit", person(Role.ADVOCATE)) is Decision.NO_ROLE
    assert decide("GET", "/v1/content/items/x", person(Role.ADVOCATE)) is Decision.ALLOW
    assert decide("POST", "/v1/content/guidelines/check", person(Role.ADVOCATE)) is Decision.ALLOW
    assert decide("PUT", "/v1/content/guidelines", person(Role.EDITOR)) is Decision.NO_ROLE


def test_key_scopes() -> None:
    writer = key("content:write")
    assert decide("POST", "/v1/content/items", writer) is Decision.ALLOW
    assert decide("GET", "/v1/content/items", writer) is Decision.ALLOW
    assert decide("GET", "/v1/metrics/kpis/reach", writer) is Decision.NO_SCOPE
    assert decide("POST", "/v1/content/items", key("content:read")) is Decision.NO_SCOPE
    assert decide("POST", "/v1/shares", key("sharing:read")) is Decision.NO_SCOPE
    assert decide("GET", "/v1/feed", key("sharing:read")) is Decision.NO_SCOPE
    every = key(*__import__("chorus_gateway.auth.scopes", fromlist=["SCOPES"]).SCOPES)
    assert decide("POST", "/v1/directory/api-keys", every) is Decision.NO_SCOPE
    assert decide("PUT", "/v1/directory/people/p/password", every) is Decision.NO_SCOPE


def test_unknown_prefixes_and_methods_match_nothing() -> None:
    assert POLICY.match("GET", "/v1/nothing") is None
    assert POLICY.match("TRACE", "/v1/content/items") is None
    assert POLICY.match("GET", "/v1/contentious") is None  # segments, not string prefixes
