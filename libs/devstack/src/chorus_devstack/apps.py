"""Run a service's real ASGI app in-process for integration tests.

The app's whole lifespan runs (pool, migrations, Redis, relay, consumers) against
the real engines; requests go through httpx's ASGI transport, so no port is
needed and two instances of one service can run side by side in one test.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal, TypeVar

import httpx
from chorus_platform.identity import (
    IDENTITY_HEADER,
    Identity,
    PrincipalKind,
    Role,
    mint_internal_token,
)
from fastapi import FastAPI
from pydantic_settings import BaseSettings
from starlette.types import ASGIApp

S = TypeVar("S", bound=BaseSettings)


def settings_for(
    cls: type[S],
    *,
    database_url: str,
    kafka_bootstrap: str,
    redis_url: str,
    internal_token_secret: str,
    **overrides: Any,
) -> S:
    """Build a service's settings pointing at the test engines (shared names by alias).

    `overrides` are field names (or aliases). Anything else raises: pydantic-settings
    ignores unknown keyword arguments, so an environment-style name
    (`CHORUS_METRICS_INGEST_GROUP=...`) would silently leave the default in place.
    """
    known = set(cls.model_fields)
    for info in cls.model_fields.values():
        known |= {a for a in (info.alias, info.validation_alias) if isinstance(a, str)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"{cls.__name__} has no setting {', '.join(unknown)}")
    return cls(
        CHORUS_DATABASE_URL=database_url,
        CHORUS_KAFKA_BOOTSTRAP=kafka_bootstrap,
        CHORUS_REDIS_URL=redis_url,
        CHORUS_INTERNAL_TOKEN_SECRET=internal_token_secret,
        **overrides,
    )


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start `app`'s lifespan and yield a client talking to it; stop it on exit."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


def identity_headers(
    secret: str,
    tenant_id: str,
    principal_id: str,
    roles: Iterable[Role | str] = (Role.ADVOCATE,),
    *,
    team_ids: Iterable[str] = (),
    kind: PrincipalKind = PrincipalKind.PERSON,
    scopes: Iterable[str] = (),
) -> dict[str, str]:
    """The header the gateway would forward for this caller."""
    identity = Identity(
        tenant_id=tenant_id,
        principal_id=principal_id,
        kind=kind,
        roles=frozenset(Role(r) for r in roles),
        team_ids=frozenset(team_ids),
        scopes=frozenset(scopes),
    )
    return {IDENTITY_HEADER: mint_internal_token(identity, secret, ttl_seconds=600)}


@contextlib.asynccontextmanager
async def serve_on_loopback(
    app: ASGIApp,
    sock: socket.socket | None = None,
    *,
    lifespan: Literal["on", "off", "auto"] = "on",
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn over real HTTP in this event loop; yield its base URL.

    For tests and benchmarks that need a socket (a peer calls it, Prometheus scrapes
    it). `sock` is a socket from `reserve_port()` when peers must know the URL before
    the server starts; otherwise one is reserved here. Shutdown is bounded: an open
    stream must not hold a session's teardown.
    """
    import uvicorn

    from chorus_devstack.fleet import reserve_port
    from chorus_devstack.waiting import eventually

    sock = sock or reserve_port()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan=lifespan,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def started() -> bool:
        if task.done():
            task.result()
            raise RuntimeError(f"the server on port {port} stopped while starting")
        return bool(server.started)

    await eventually(started, timeout=120, what=f"the server on port {port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()  # uvicorn closed its server; the socket is ours to release
