"""FastAPI dependencies shared by the routers: a transaction per request, callers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

import asyncpg
from chorus_platform.app import ServiceContext
from chorus_platform.identity import CurrentIdentity, Identity, PrincipalKind, Role
from chorus_platform.problems import Forbidden
from fastapi import Depends, Request

from chorus_metrics.kpis.repository import snapshot
from chorus_metrics.settings import MetricsSettings


def context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def settings(request: Request) -> MetricsSettings:
    value = context(request).settings
    assert isinstance(value, MetricsSettings)
    return value


def pool(request: Request) -> asyncpg.Pool:
    """Write routes open their transaction themselves and return after it committed,
    so a 2xx always means the effect is durable (whenever FastAPI runs the exit code
    of yield dependencies)."""
    return context(request).pool


async def read_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """Reads run in one read-only snapshot (see `kpis.repository.snapshot`)."""
    async with context(request).pool.acquire() as conn, snapshot(conn):
        yield conn


Pool = Annotated[asyncpg.Pool, Depends(pool)]
ReadConn = Annotated[asyncpg.Connection, Depends(read_connection)]
Settings = Annotated[MetricsSettings, Depends(settings)]


def admin(identity: CurrentIdentity) -> Identity:
    if not identity.has_any_role([Role.ADMIN]):
        raise Forbidden("requires the admin role", required_roles=[Role.ADMIN.value])
    return identity


def admin_or_scope(scope: str) -> Callable[[Identity], Identity]:
    """A person with the admin role, or an API key / service carrying `scope`."""

    def check(identity: CurrentIdentity) -> Identity:
        if identity.has_any_role([Role.ADMIN]):
            return identity
        if identity.kind is not PrincipalKind.PERSON and scope in identity.scopes:
            return identity
        raise Forbidden(f"requires the admin role or the scope {scope}", required_scope=scope)

    return check


Admin = Annotated[Identity, Depends(admin)]
