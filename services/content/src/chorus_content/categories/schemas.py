"""Library categories: five defaults every tenant has, plus the tenant's own."""

from __future__ import annotations

from typing import Annotated

from chorus_events.contracts.base import Slug
from pydantic import BaseModel, ConfigDict, StringConstraints

DEFAULT_CATEGORIES: dict[str, str] = {
    "internal_announcements": "Internal announcements",
    "product_announcements": "Product announcements",
    "thought_leadership": "Thought leadership",
    "recruiting": "Recruiting",
    "culture": "Culture",
}


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    slug: Slug
    """Machine name, `^[a-z0-9][a-z0-9_.-]*$`, at most 64 characters."""
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Category(CategoryIn):
    builtin: bool
    """The five defaults are built in and cannot be deleted."""


class CategoryList(BaseModel):
    items: list[Category]
