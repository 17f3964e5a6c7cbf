"""FastAPI dependencies shared by the routers: the caller by role, and the services."""

from __future__ import annotations

from typing import Annotated, cast

from chorus_platform.app import ServiceContext
from chorus_platform.identity import Identity, Role, require_roles
from fastapi import Depends, Request

from chorus_content.guidelines.service import MatcherCache
from chorus_content.items.service import ItemService
from chorus_content.items.transitions import WorkflowService
from chorus_content.settings import ContentSettings

AnyRole = Annotated[Identity, Depends(require_roles(*Role))]
"""Any authenticated role of the tenant, advocates included."""
Staff = Annotated[Identity, Depends(require_roles(Role.EDITOR, Role.APPROVER, Role.ADMIN))]
Editor = Annotated[Identity, Depends(require_roles(Role.EDITOR, Role.ADMIN))]
Approver = Annotated[Identity, Depends(require_roles(Role.APPROVER, Role.ADMIN))]
Admin = Annotated[Identity, Depends(require_roles(Role.ADMIN))]


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
