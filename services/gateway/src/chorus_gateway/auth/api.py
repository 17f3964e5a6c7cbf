"""The built-in login (for tenants without SSO) and the issuer's public discovery.

Login failures all read the same ("invalid credentials") whether the tenant, the
email or the password was wrong, and are throttled per tenant and email address
so a password cannot be guessed at request speed.
"""

from __future__ import annotations

from typing import Any

from chorus_platform.problems import Forbidden, ProblemError, Unauthorized
from fastapi import APIRouter, Response, status

from chorus_gateway.auth.passwords import hash_password, verify_password
from chorus_gateway.auth.principal import RateLimit
from chorus_gateway.auth.schemas import LoginIn, PasswordChangeIn, TokenOut
from chorus_gateway.deps import Caller, Runtime

router = APIRouter(tags=["authentication"])
LOGIN_ATTEMPTS = RateLimit(per_minute=10, burst=5)


class TooManyAttempts(ProblemError):
    status, type_slug, title = 429, "rate-limited", "Too many attempts"


@router.post("/v1/auth/login", response_model=TokenOut)
async def login(body: LoginIn, rt: Runtime) -> TokenOut:
    """Exchange an email and password for a bearer token (ES256 JWT)."""
    verdict = await rt.limiter.check_key(body.tenant_id, f"login:{body.email}", LOGIN_ATTEMPTS)
    if verdict is not None and not verdict.allowed:
        wait = max(1, verdict.retry_after_ms // 1000)
        raise TooManyAttempts("too many sign-in attempts; wait a minute", retry_after=wait)
    row = await rt.auth_repository.person_by_email(body.tenant_id, body.email)
    if not await verify_password(row["password_hash"] if row else None, body.password):
        raise Unauthorized("invalid credentials")
    assert row is not None
    if row["enrolment"] == "suspended":
        raise Forbidden("this account is suspended")
    token = rt.issuer.issue(row["tenant_id"], row["id"], row["email"])
    return TokenOut(access_token=token, expires_in=rt.issuer.ttl_seconds)


@router.post("/v1/auth/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChangeIn, caller: Caller, rt: Runtime) -> Response:
    row = await rt.auth_repository.person_by_id(caller.tenant_id, caller.principal_id)
    if row is None or not await verify_password(row["password_hash"], body.current_password):
        raise Forbidden("the current password is not correct")
    await rt.auth_repository.set_password(
        caller.tenant_id, caller.principal_id, await hash_password(body.new_password)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/.well-known/jwks.json", include_in_schema=False)
async def jwks(rt: Runtime, response: Response) -> dict[str, Any]:
    response.headers["cache-control"] = "public, max-age=300"
    return rt.issuer.jwks()


@router.get("/.well-known/openid-configuration", include_in_schema=False)
async def discovery(rt: Runtime) -> dict[str, Any]:
    issuer = rt.issuer.issuer
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["none"],
    }
