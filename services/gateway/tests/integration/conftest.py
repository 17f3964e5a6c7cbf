"""The gateway on the real engines, in front of a loopback "echo" service.

The echo app stands in for all four services (real HTTP on a free port): it
verifies the internal identity token exactly as a service does and answers with
what it received, so tests see what the gateway forwarded. A second loopback app
is a test OIDC provider publishing an RSA JWKS. Tests isolate themselves by
creating their own tenant.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from chorus_devstack.apps import serve_on_loopback, settings_for
from chorus_devstack.fleet import free_port
from chorus_gateway.app import create_gateway_app
from chorus_gateway.runtime import GatewayRuntime
from chorus_gateway.settings import GatewaySettings, OidcIssuer
from chorus_platform.identity import IDENTITY_HEADER, InvalidToken, verify_internal_token
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from jwt.algorithms import RSAAlgorithm

OIDC_AUDIENCE = "chorus-test-api"


class EchoCounters:
    def __init__(self) -> None:
        self.effects: dict[str, int] = {}


def echo_app(secret: str, counters: EchoCounters) -> FastAPI:
    app = FastAPI()

    @app.api_route(
        "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    async def echo(path: str, request: Request) -> Response:
        token = request.headers.get(IDENTITY_HEADER)
        identity: dict[str, Any] | None = None
        if token is not None:
            try:
                identity = verify_internal_token(token, secret).model_dump(mode="json")
            except InvalidToken as exc:
                return JSONResponse({"title": str(exc)}, status_code=401)
        body = await request.body()
        if path.endswith("/effects"):
            key = body.decode() or "default"
            await asyncio.sleep(0.2)  # long enough for a concurrent duplicate to arrive
            counters.effects[key] = counters.effects.get(key, 0) + 1
            return JSONResponse({"effect": counters.effects[key]}, status_code=201)
        if path.endswith("/slow"):
            await asyncio.sleep(3)
        if path.endswith("/boom"):
            return JSONResponse({"title": "boom"}, status_code=500)
        if path.endswith("/chunks"):

            async def chunks() -> AsyncIterator[bytes]:
                for i in range(3):
                    yield f"chunk {i}\n".encode()

            return StreamingResponse(chunks(), media_type="text/plain")
        return JSONResponse(
            {
                "path": "/" + path,
                "method": request.method,
                "query": request.url.query,
                "identity": identity,
                "headers": {
                    k: v for k, v in request.headers.items() if k != IDENTITY_HEADER.lower()
                },
                "body": body.decode(errors="replace"),
            }
        )

    return app


@dataclass
class FakeProvider:
    """An external OIDC provider: an RSA key and its JWKS on a loopback URL."""

    issuer: str
    key: rsa.RSAPrivateKey
    kid: str

    def token(self, tenant_id: str, subject: str, **claims: Any) -> str:
        now = int(__import__("time").time())
        body = {"iss": self.issuer, "aud": OIDC_AUDIENCE, "sub": subject,
                "chorus_tenant": tenant_id, "iat": now, "exp": now + 300, **claims}  # fmt: skip
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


def oidc_app(holder: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        holder["fetches"] = holder.get("fetches", 0) + 1
        return {"keys": holder["jwks"]}

    return app


@pytest.fixture(scope="session")
def echo_counters() -> EchoCounters:
    return EchoCounters()


@pytest.fixture(scope="session")
async def echo_url(internal_token_secret: str, echo_counters: EchoCounters) -> AsyncIterator[str]:
    async with serve_on_loopback(echo_app(internal_token_secret, echo_counters)) as url:
        yield url


@pytest.fixture(scope="session")
async def oidc() -> AsyncIterator[tuple[FakeProvider, dict[str, Any]]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "test-rsa-1"
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256"}
    holder: dict[str, Any] = {"jwks": [jwk]}
    async with serve_on_loopback(oidc_app(holder)) as url:
        yield FakeProvider(url, key, kid), holder


@pytest.fixture(scope="session")
def make_settings(
    postgres_dsn: str,
    kafka_bootstrap: str,
    redis_url: str,
    internal_token_secret: str,
    echo_url: str,
    oidc: tuple[FakeProvider, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., GatewaySettings]:
    key_path: Path = tmp_path_factory.mktemp("gateway") / "signing-key.pem"

    def build(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "content_url": echo_url, "sharing_url": echo_url, "rewards_url": echo_url,
            "metrics_url": f"http://127.0.0.1:{free_port()}",  # nobody listens: 503
            "routes": {"/v1/content": "content", "/v1/feed": "sharing",
                       "/v1/shares": "sharing", "/v1/sharing": "sharing", "/l": "sharing",
                       "/v1/metrics": "metrics", "/v1/rewards": "rewards"},
            "upstream_read_timeout": 1.0,
            "upstream_connect_timeout": 0.5,
            "dev_key_path": key_path,
            "public_url": "http://gateway.test",
            "oidc_issuers": [OidcIssuer(issuer=oidc[0].issuer, jwks_url=f"{oidc[0].issuer}/jwks",
                                        audience=OIDC_AUDIENCE)],
            "jwks_refresh_min_interval": 1.0,
            "principal_cache_seconds": 0.5,
            **overrides,
        }  # fmt: skip
        return settings_for(
            GatewaySettings,
            database_url=postgres_dsn,
            kafka_bootstrap=kafka_bootstrap,
            redis_url=redis_url,
            internal_token_secret=internal_token_secret,
            **values,
        )

    return build


@pytest.fixture(scope="session")
async def gateway_app(make_settings: Callable[..., GatewaySettings]) -> AsyncIterator[FastAPI]:
    app = create_gateway_app(make_settings())
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def runtime(gateway_app: FastAPI) -> GatewayRuntime:
    found: GatewayRuntime = gateway_app.state.ctx.extras["gateway"]
    return found


@pytest.fixture(scope="session")
async def client(gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
        yield c


class Tenant:
    """A fresh tenant with its first admin signed in, and helpers to add callers."""

    def __init__(self, client: httpx.AsyncClient, tenant_id: str, admin_token: str) -> None:
        self.client = client
        self.id = tenant_id
        self.admin = {"Authorization": f"Bearer {admin_token}"}

    async def person(
        self, *roles: str, teams: tuple[str, ...] = (), **fields: Any
    ) -> dict[str, Any]:
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "display_name": "Someone", "roles": list(roles),
                "team_ids": list(teams), "password": "correct horse battery", **fields}  # fmt: skip
        created = await self.client.post("/v1/directory/people", json=body, headers=self.admin)
        assert created.status_code == 201, created.text
        return dict(created.json())

    async def login(
        self,
        email: str,
        password: str = "correct horse battery",  # noqa: S107
    ) -> dict[str, str]:
        answer = await self.client.post(
            "/v1/auth/login", json={"tenant_id": self.id, "email": email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def as_role(self, *roles: str, teams: tuple[str, ...] = ()) -> dict[str, str]:
        person = await self.person(*roles, teams=teams)
        return await self.login(person["email"])

    async def key(self, *scopes: str) -> dict[str, str]:
        created = await self.client.post(
            "/v1/directory/api-keys", json={"name": "test", "scopes": list(scopes)},
            headers=self.admin,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        return {"Authorization": f"Bearer {created.json()['secret']}"}


TenantFactory = Callable[[], Awaitable[Tenant]]


@pytest.fixture(scope="session")
def new_tenant(client: httpx.AsyncClient, make_settings: Callable[..., GatewaySettings],
               gateway_app: FastAPI) -> TenantFactory:  # fmt: skip
    from chorus_gateway.bootstrap import bootstrap, parser

    async def create() -> Tenant:
        tenant_id = f"t-{uuid.uuid4().hex[:12]}"
        email = f"admin-{tenant_id}@example.com"
        args = parser().parse_args(
            ["bootstrap-tenant", "--name", "Test Co", "--admin-email", email,
             "--tenant-id", tenant_id, "--time-zone", "Europe/Paris"]
        )  # fmt: skip
        result = await bootstrap(args, make_settings())
        answer = await client.post(
            "/v1/auth/login",
            json={"tenant_id": tenant_id, "email": email, "password": result["admin_password"]},
        )
        assert answer.status_code == 200, answer.text
        return Tenant(client, tenant_id, answer.json()["access_token"])

    return create


@pytest.fixture
async def tenant(new_tenant: TenantFactory) -> Tenant:
    return await new_tenant()


@pytest.fixture(scope="session")
async def gateway_url(gateway_app: FastAPI) -> AsyncIterator[str]:
    """The same gateway over real HTTP (streaming responses need it); lifespan already runs."""
    async with serve_on_loopback(gateway_app, lifespan="off") as url:
        yield url
