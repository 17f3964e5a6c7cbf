"""Authentication: the built-in login, API keys, and attacks on bearer tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from chorus_gateway.runtime import GatewayRuntime
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .conftest import FakeProvider, Tenant


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(runtime: GatewayRuntime, tenant: Tenant, subject: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": runtime.issuer.issuer, "aud": runtime.issuer.audience, "sub": subject,
            "chorus_tenant": tenant.id, "iat": now, "exp": now + 300, **extra}  # fmt: skip


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _me(tenant: Tenant, headers: dict[str, str]) -> int:
    return (await tenant.client.get("/v1/directory/me", headers=headers)).status_code


async def test_login_issues_a_token_that_signs_the_person_in(tenant: Tenant) -> None:
    person = await tenant.person("advocate")
    headers = await tenant.login(person["email"])
    me = await tenant.client.get("/v1/directory/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == person["id"]
    assert me.json()["enrolment"] == "enrolled"  # the first sign-in enrols


async def test_wrong_password_and_unknown_email_read_the_same(tenant: Tenant) -> None:
    person = await tenant.person("advocate")
    for email, password in ((person["email"], "wrong password!"), ("nobody@example.com", "x")):
        answer = await tenant.client.post(
            "/v1/auth/login", json={"tenant_id": tenant.id, "email": email, "password": password}
        )
        assert answer.status_code == 401
        assert answer.json()["detail"] == "invalid credentials"
        assert answer.headers["content-type"] == "application/problem+json"


async def test_jwks_is_published_and_verifies_issued_tokens(tenant: Tenant) -> None:
    person = await tenant.person("advocate")
    token = (await tenant.login(person["email"]))["Authorization"].split()[1]
    jwks = (await tenant.client.get("/.well-known/jwks.json")).json()
    [key] = jwks["keys"]
    assert key["alg"] == "ES256" and "d" not in key
    public = jwt.PyJWK(key)
    claims = jwt.decode(token, public.key, algorithms=["ES256"], audience="chorus")
    assert claims["sub"] == person["id"] and claims["chorus_tenant"] == tenant.id


async def test_forged_tokens_are_rejected(tenant: Tenant, runtime: GatewayRuntime) -> None:
    person = await tenant.person("admin")
    claims = _claims(runtime, tenant, person["id"])
    kid = runtime.issuer.kid
    good = jwt.encode(claims, runtime.issuer.key, algorithm="ES256", headers={"kid": kid})
    assert await _me(tenant, _bearer(good)) == 200

    # alg "none": no signature at all.
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}."
    # HS256 "signed" with the published public key as the HMAC secret (alg confusion).
    pem = runtime.issuer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{body}.{_b64(mac)}"
    # ES256 with another key claiming our kid; and a valid token with an edited payload.
    stranger = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                          headers={"kid": kid})  # fmt: skip
    parts = good.split(".")
    edited = _b64(json.dumps({**claims, "sub": "someone-else"}).encode())
    tampered = f"{parts[0]}.{edited}.{parts[2]}"

    def signed(**changes: Any) -> str:
        return jwt.encode({**claims, **changes}, runtime.issuer.key, algorithm="ES256",
                          headers={"kid": kid})  # fmt: skip

    now = int(time.time())
    cases = {
        "none": unsigned,
        "hs256 confusion": confused,
        "foreign key": stranger,
        "tampered": tampered,
        "expired": signed(iat=now - 3600, exp=now - 120),
        "wrong issuer": signed(iss="https://evil.example.com"),
        "wrong audience": signed(aud="another-api"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"},
                             runtime.issuer.key, algorithm="ES256", headers={"kid": kid}),
        "garbage": "not.a.jwt",
    }  # fmt: skip
    for name, token in cases.items():
        answer = await tenant.client.get("/v1/directory/me", headers=_bearer(token))
        assert answer.status_code == 401, f"{name}: {answer.status_code} {answer.text}"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    detail = await tenant.client.get("/v1/directory/me", headers=_bearer(cases["expired"]))
    assert detail.json()["detail"] == "token expired"
    detail = await tenant.client.get("/v1/directory/me", headers=_bearer(cases["none"]))
    assert "not accepted" in detail.json()["detail"]


async def test_an_oidc_person_signs_in_with_the_providers_token(
    tenant: Tenant, oidc: tuple[FakeProvider, dict[str, Any]]
) -> None:
    issuer, _ = oidc
    person = await tenant.person("editor", external_subject="idp|4242")
    me = await tenant.client.get(
        "/v1/directory/me", headers=_bearer(issuer.token(tenant.id, "idp|4242"))
    )
    assert me.status_code == 200 and me.json()["id"] == person["id"]
    # Matched by a verified email when no subject was recorded.
    other = await tenant.person("advocate")
    by_email = issuer.token(tenant.id, "idp|new", email=other["email"], email_verified=True)
    assert await _me(tenant, _bearer(by_email)) == 200
    unverified = issuer.token(tenant.id, "idp|new2", email=other["email"])
    assert await _me(tenant, _bearer(unverified)) == 401
    # A token for another tenant names a tenant where this subject does not exist.
    assert await _me(tenant, _bearer(issuer.token("t-elsewhere", "idp|4242"))) == 401


async def test_unknown_kids_refetch_the_jwks_at_a_bounded_rate(
    tenant: Tenant, oidc: tuple[FakeProvider, dict[str, Any]]
) -> None:
    issuer, holder = oidc
    await tenant.person("editor", external_subject="idp|rotating")
    before = holder.get("fetches", 0)
    forged = [
        jwt.encode({"iss": issuer.issuer, "sub": "x"}, issuer.key, algorithm="RS256",
                   headers={"kid": f"forged-{i}"})
        for i in range(20)
    ]  # fmt: skip
    for token in forged:
        assert await _me(tenant, _bearer(token)) == 401
    assert holder.get("fetches", 0) - before <= 1

    # The provider rotates to a new key: after the refresh interval the new kid is fetched.
    rotated = FakeProvider(issuer.issuer, issuer.key, "test-rsa-2")
    holder["jwks"] = [{**holder["jwks"][0], "kid": "test-rsa-2"}, *holder["jwks"]]
    await asyncio.sleep(1.05)  # the refresh limit is a wall-clock interval
    token = rotated.token(tenant.id, "idp|rotating")
    assert await _me(tenant, _bearer(token)) == 200


async def test_a_suspended_person_is_refused(tenant: Tenant, runtime: GatewayRuntime) -> None:
    person = await tenant.person("advocate")
    headers = await tenant.login(person["email"])
    assert await _me(tenant, headers) == 200
    changed = await tenant.client.patch(
        f"/v1/directory/people/{person['id']}", json={"enrolment": "suspended"},
        headers=tenant.admin,
    )  # fmt: skip
    assert changed.status_code == 200
    assert await _me(tenant, headers) == 403
    answer = await tenant.client.post(
        "/v1/auth/login",
        json={
            "tenant_id": tenant.id,
            "email": person["email"],
            "password": "correct horse battery",
        },
    )
    assert answer.status_code == 403


async def test_api_keys_are_shown_once_rotated_and_revoked(
    tenant: Tenant, runtime: GatewayRuntime
) -> None:
    client = tenant.client
    created = await client.post(
        "/v1/directory/api-keys", json={"name": "crm", "scopes": ["content:read"]},
        headers=tenant.admin,
    )  # fmt: skip
    assert created.status_code == 201
    key = created.json()
    assert key["secret"].startswith(f"ck_{key['id']}_")
    listed = await client.get(f"/v1/directory/api-keys/{key['id']}", headers=tenant.admin)
    assert "secret" not in listed.json() and listed.json()["last_used_at"] is None

    headers = _bearer(key["secret"])
    assert (await client.get("/v1/content/items", headers=headers)).status_code == 200
    assert (await client.get("/v1/content/items", headers={"X-API-Key": key["secret"]})
            ).status_code == 200  # fmt: skip
    await runtime._last_used.flush()  # type: ignore[union-attr]
    used = await client.get(f"/v1/directory/api-keys/{key['id']}", headers=tenant.admin)
    assert used.json()["last_used_at"] is not None

    wrong = key["secret"][:-4] + "AAAA"
    assert (await client.get("/v1/content/items", headers=_bearer(wrong))).status_code == 401

    rotated = await client.post(
        f"/v1/directory/api-keys/{key['id']}/rotate", json={"grace_seconds": 0},
        headers=tenant.admin,
    )  # fmt: skip
    assert rotated.status_code == 201
    new = rotated.json()
    assert new["scopes"] == ["content:read"] and new["id"] != key["id"]
    assert (await client.get("/v1/content/items", headers=headers)).status_code == 401
    new_headers = _bearer(new["secret"])
    assert (await client.get("/v1/content/items", headers=new_headers)).status_code == 200

    revoked = await client.delete(f"/v1/directory/api-keys/{new['id']}", headers=tenant.admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    answer = await client.get("/v1/content/items", headers=new_headers)
    assert answer.status_code == 401 and answer.json()["detail"] == "API key revoked"


async def test_rotation_grace_keeps_the_old_key_working(tenant: Tenant) -> None:
    created = await tenant.client.post(
        "/v1/directory/api-keys", json={"name": "bi", "scopes": ["metrics:read"]},
        headers=tenant.admin,
    )  # fmt: skip
    old = created.json()
    rotated = await tenant.client.post(
        f"/v1/directory/api-keys/{old['id']}/rotate", headers=tenant.admin
    )
    assert rotated.status_code == 201
    after = await tenant.client.get(f"/v1/directory/api-keys/{old['id']}", headers=tenant.admin)
    assert after.json()["replaced_by"] == rotated.json()["id"]
    assert after.json()["expires_at"] is not None and after.json()["revoked_at"] is None
    assert await _me(tenant, _bearer(old["secret"])) == 403  # a key has no "me", but is valid


async def test_missing_and_malformed_credentials(tenant: Tenant) -> None:
    client = tenant.client
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        answer = await client.get("/v1/content/items", headers=headers)
        assert answer.status_code == 401, headers
