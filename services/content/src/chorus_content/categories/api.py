"""Routes of library categories: `/v1/content/categories`."""

from __future__ import annotations

from typing import Annotated

from chorus_events.contracts.base import Slug
from fastapi import APIRouter, Path, Response, status

from chorus_content.categories.schemas import Category, CategoryIn, CategoryList
from chorus_content.categories.service import add_category, delete_category, list_categories
from chorus_content.db import reading, transaction
from chorus_content.deps import Admin, AnyRole, Context

router = APIRouter(prefix="/v1/content/categories", tags=["categories"])


@router.get("", response_model=CategoryList)
async def get_categories(identity: AnyRole, ctx: Context) -> CategoryList:
    """The five built-in categories, then the tenant's own."""
    async with reading(ctx.pool) as tx:
        return CategoryList(items=await list_categories(tx, identity.tenant_id))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Category)
async def post_category(body: CategoryIn, identity: Admin, ctx: Context) -> Category:
    async with transaction(ctx.pool) as tx:
        return await add_category(tx, identity.tenant_id, body)


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_category(slug: Annotated[Slug, Path()], identity: Admin, ctx: Context) -> Response:
    """Delete a tenant category no item uses (409 for built-ins and used ones)."""
    async with transaction(ctx.pool) as tx:
        await delete_category(tx, identity.tenant_id, slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
