"""The shape every KPI report has, in JSON and (flattened) in CSV."""

from __future__ import annotations

from typing import Any

from chorus_events.contracts import Measurement
from pydantic import BaseModel

from chorus_metrics.kpis.query import Bucket


class KpiReport(BaseModel):
    kpi: str
    time_zone: str
    bucket: Bucket
    filters: dict[str, Any]
    columns: list[str]
    """Row keys in order; `bucket` is the local date the bucket starts on (null: whole period)."""
    measurement: dict[str, list[Measurement]]
    """How each figure column was obtained; a sum of measured and reported figures
    (e.g. engagement = clicks + reactions + ...) lists both."""
    method: str
    """What the figures mean and, for derived ones, the formula."""
    rows: list[dict[str, Any]]
