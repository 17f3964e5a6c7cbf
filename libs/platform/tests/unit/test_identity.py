"""The internal identity token: what the gateway forwards and every service trusts."""

from __future__ import annotations

import time
from typing import Annotated

import pytest
from chorus_platform.identity import (
    IDENTITY_HEADER,
    CurrentIdentity,
    Identity,
    InvalidToken,
    PrincipalKind,
    Role,
    mint_internal_token,
    require_roles,
    require_scope,
    verify_internal_token,
)
from chorus_platform.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

pytestmark = pytest.mark.unit
SECRET = "unit-test-secret"
ALICE = Identity(
    tenant_id="acme",
    principal_id="alice",
    roles=frozenset({Role.EDITOR}),
    team_ids=frozenset({"t1"}),
)


def test_round_trip_keeps_every_claim() -> None:
    token = mint_internal_token(ALICE, SECRET)
    assert verify_internal_token(token, SECRET) == ALICE


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad signature"),
        (lambda t: "x" + t, "bad signature"),
        (lambda t: t.replace(".", ""), "malformed token"),
        (lambda t: "", "malformed token"),
    ],
)
def test_tampered_tokens_are_rejected(tamper: object, reason: str) -> None:
    token = mint_internal_token(ALICE, SECRET)
    with pytest.raises(InvalidToken, match=reason):
        verify_internal_token(tamper(token), SECRET)  # type: ignore[operator]


def test_token_signed_with_another_secret_is_rejected() -> None:
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_internal_token(mint_internal_token(ALICE, "other"), SECRET)


def test_expired_token_is_rejected() -> None:
    token = mint_internal_token(ALICE, SECRET, ttl_seconds=30, now=time.time() - 31)
    with pytest.raises(InvalidToken, match="expired"):
        verify_internal_token(token, SECRET)


def test_token_from_the_future_is_rejected() -> None:
    token = mint_internal_token(ALICE, SECRET, now=time.time() + 120)
    with pytest.raises(InvalidToken, match="future"):
        verify_internal_token(token, SECRET)


def test_a_token_verified_before_is_still_checked_each_time() -> None:
    """Verified tokens are remembered; their time window and secret are not taken on trust."""
    issued = time.time()
    token = mint_internal_token(ALICE, SECRET, ttl_seconds=30, now=issued)
    assert verify_internal_token(token, SECRET, now=issued + 1) == ALICE
    with pytest.raises(InvalidToken, match="expired"):
        verify_internal_token(token, SECRET, now=issued + 30)
    with pytest.raises(InvalidToken, match="future"):
        verify_internal_token(token, SECRET, now=issued - 60)
    with pytest.raises(InvalidToken, match="bad signature"):
        verify_internal_token(token, "another-secret", now=issued + 1)
    assert verify_internal_token(token, SECRET, now=issued + 2) == ALICE


def test_empty_secret_never_verifies() -> None:
    with pytest.raises(ValueError):
        mint_internal_token(ALICE, "")
    with pytest.raises(InvalidToken):
        verify_internal_token(mint_internal_token(ALICE, SECRET), "")


def _app() -> TestClient:
    app = FastAPI()
    app.state.internal_token_secret = SECRET
    install_problem_handlers(app)

    @app.get("/me")
    def me(identity: CurrentIdentity) -> dict[str, str]:
        return {"tenant": identity.tenant_id, "who": identity.principal_id}

    @app.post("/approve")
    def approve(
        identity: Annotated[Identity, Depends(require_roles(Role.APPROVER, Role.ADMIN))],
    ) -> dict[str, str]:
        return {"ok": identity.principal_id}

    @app.get("/kpis")
    def kpis(
        identity: Annotated[Identity, Depends(require_scope("metrics:read"))],
    ) -> dict[str, bool]:
        return {"ok": True}

    return TestClient(app)


def test_dependency_answers_401_problem_without_token() -> None:
    response = _app().get("/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert IDENTITY_HEADER in response.json()["detail"]


def test_dependency_accepts_a_valid_token() -> None:
    response = _app().get("/me", headers={IDENTITY_HEADER: mint_internal_token(ALICE, SECRET)})
    assert response.status_code == 200
    assert response.json() == {"tenant": "acme", "who": "alice"}


def test_role_check_answers_403_naming_the_roles() -> None:
    response = _app().post(
        "/approve", headers={IDENTITY_HEADER: mint_internal_token(ALICE, SECRET)}
    )
    assert response.status_code == 403
    body = response.json()
    assert body["required_roles"] == ["admin", "approver"]
    approver = ALICE.model_copy(update={"roles": frozenset({Role.APPROVER})})
    ok = _app().post("/approve", headers={IDENTITY_HEADER: mint_internal_token(approver, SECRET)})
    assert ok.status_code == 200


def test_api_keys_need_the_scope() -> None:
    key = Identity(
        tenant_id="acme",
        principal_id="key-1",
        kind=PrincipalKind.API_KEY,
        scopes=frozenset({"content:write"}),
    )
    denied = _app().get("/kpis", headers={IDENTITY_HEADER: mint_internal_token(key, SECRET)})
    assert denied.status_code == 403
    assert denied.json()["required_scope"] == "metrics:read"
    scoped = key.model_copy(update={"scopes": frozenset({"metrics:read"})})
    assert (
        _app()
        .get("/kpis", headers={IDENTITY_HEADER: mint_internal_token(scoped, SECRET)})
        .status_code
        == 200
    )
