"""Use cases of categories: the defaults plus the tenant's own, add, delete."""

from __future__ import annotations

from chorus_platform.problems import Conflict, NotFound

from chorus_content.categories.schemas import DEFAULT_CATEGORIES, Category, CategoryIn
from chorus_content.db import Tx


async def list_categories(tx: Tx, tenant_id: str) -> list[Category]:
    defaults = [Category(slug=s, name=n, builtin=True) for s, n in DEFAULT_CATEGORIES.items()]
    return defaults + await tx.categories.custom(tenant_id)


async def category_exists(tx: Tx, tenant_id: str, slug: str) -> bool:
    return slug in DEFAULT_CATEGORIES or await tx.categories.exists(tenant_id, slug)


async def add_category(tx: Tx, tenant_id: str, category: CategoryIn) -> Category:
    if category.slug in DEFAULT_CATEGORIES or not await tx.categories.add(
        tenant_id, category.slug, category.name
    ):
        raise Conflict(f"category {category.slug!r} already exists", slug=category.slug)
    return Category(slug=category.slug, name=category.name, builtin=False)


async def delete_category(tx: Tx, tenant_id: str, slug: str) -> None:
    """Delete a tenant category no item uses (409 otherwise).

    The row is deleted first and the use checked after: item writes read the
    category `FOR SHARE`, so a concurrent create either finished before the
    delete (and is seen here) or waits for it and then finds no category.
    """
    if slug in DEFAULT_CATEGORIES:
        raise Conflict(f"category {slug!r} is built in and cannot be deleted", slug=slug)
    if not await tx.categories.delete(tenant_id, slug):
        raise NotFound(f"no category {slug!r}")
    if await tx.categories.in_use(tenant_id, slug):
        raise Conflict(f"category {slug!r} is used by content items", slug=slug)
