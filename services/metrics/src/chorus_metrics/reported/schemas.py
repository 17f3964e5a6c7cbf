"""Models of `POST /v1/metrics/engagement`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ReportedBatch(BaseModel):
    """Up to `reported_batch_max` observations; each is validated on its own (see results)."""

    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    """Each item is an `engagement.reported` payload without `tenant_id` (the caller's)."""


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    """New: durably queued for ingestion."""
    DUPLICATE = "duplicate"
    """This (source, source_event_id) was accepted before: not counted again."""
    INVALID = "invalid"
    """Failed validation: see `errors`; nothing was stored for it."""


class ItemResult(BaseModel):
    index: int
    status: ItemStatus
    source: str | None = None
    source_event_id: str | None = None
    event_id: str | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    invalid: int
    results: list[ItemResult]
