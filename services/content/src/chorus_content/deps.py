"""FastAPI dependencies shared by the routers: the caller by role, and the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from chorus_platform.app import ServiceContext
from chorus_platform.identity import Identity, Role, current_identity, require_roles
from fastapi import Depends, Request

from chorus_content.guidelines.service import MatcherCache
from chorus_content.items.service import ItemService
from chorus_content.items.transitions import WorkflowService
from chorus_content.settings import ContentSettings


def caller_with(*roles: Role) -> Callable[[Request], Awaitable[Identity]]:
    """The platform's `require_roles`, run inline from an async dependency.

    FastAPI runs plain-`def` dependencies in a worker thread; for a few
    microseconds of HMAC and set work that hop cost ~1 ms per request under
    load (measured on the check route), so the sync checks are called here.
    """
    check_roles = require_roles(*roles)

    async def dependency(request: Request) -> Identity:
        return check_roles(current_identity(request))

    return dependency


AnyRole = Annotated[Identity, Depends(caller_with(*Role))]
"""Any authenticated role of the tenant, advocates included."""
Staff = Annotated[Identity, Depends(caller_with(Role.EDITOR, Role.APPROVER, Role.ADMIN))]
Editor = Annotated[Identity, Depends(caller_with(Role.EDITOR, Role.ADMIN))]
Approver = Annotated[Identity, Depends(caller_with(Role.APPROVER, Role.ADMIN))]
Admin = Annotated[Identity, Depends(caller_with(Role.ADMIN))]


async def service_context(request: Request) -> ServiceContext:
    return cast(ServiceContext, request.app.state.ctx)


Context = Annotated[ServiceContext, Depends(service_context)]


async def matcher_cache(ctx: Context) -> MatcherCache:
    cache = ctx.extras.get("matcher_cache")
    if cache is None:
        settings = cast(ContentSettings, ctx.settings)
        cache = ctx.extras["matcher_cache"] = MatcherCache(settings.guidelines_cache_size)
    return cast(MatcherCache, cache)


Matchers = Annotated[MatcherCache, Depends(matcher_cache)]


async def item_service(ctx: Context) -> ItemService:
    return ItemService(ctx.pool)


Items = Annotated[ItemService, Depends(item_service)]


async def workflow_service(ctx: Context, matchers: Matchers) -> WorkflowService:
    return WorkflowService(ctx.pool, matchers)


Workflow = Annotated[WorkflowService, Depends(workflow_service)]
