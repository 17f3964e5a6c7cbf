"""Build `engagement.updated` from a share's totals and what was last emitted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chorus_events.contracts import (
    EngagementDeltas,
    EngagementTotals,
    EngagementUpdated,
    Measurement,
    MeasurementLabels,
    Network,
)

KINDS = ("clicks", "reactions", "comments", "reshares", "impressions")

# Clicks are our own tracked-link redirects; the rest comes from networks. Reach
# estimates never enter these totals, so nothing here is "estimated".
LABELS = MeasurementLabels(
    clicks=Measurement.MEASURED,
    reactions=Measurement.REPORTED,
    comments=Measurement.REPORTED,
    reshares=Measurement.REPORTED,
    impressions=Measurement.REPORTED,
)


def rejected_delta(now: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    """Rejections added since the last emission, by rule (only rules with new ones)."""
    delta = {rule: int(n) - int(before.get(rule, 0)) for rule, n in now.items()}
    return {rule: n for rule, n in sorted(delta.items()) if n > 0}


def build(row: Mapping[str, Any]) -> EngagementUpdated | None:
    """The event for a claimed share row, or None when nothing changed since the last one."""
    deltas = {kind: int(row[kind]) - int(row[f"emitted_{kind}"]) for kind in KINDS}
    # NULL from the claim: the rejections equal what was emitted.
    now_rejected = row["rejected"]
    rejected = {} if now_rejected is None else rejected_delta(now_rejected, row["emitted_rejected"])
    if not any(deltas.values()) and not rejected:
        return None
    return EngagementUpdated(
        tenant_id=row["tenant_id"],
        share_id=row["share_id"],
        content_id=row["content_id"],
        advocate_id=row["advocate_id"],
        team_ids=tuple(row["team_ids"]),
        network=Network(row["network"]),
        campaign_hashtags=tuple(row["campaign_hashtags"]),
        window_start=row["last_emitted_at"] or row["dirty_since"],
        window_end=row["now"],
        deltas=EngagementDeltas(**deltas),
        totals=EngagementTotals(**{kind: int(row[kind]) for kind in KINDS}),
        rejected=rejected,
        measurement=LABELS,
        sequence=int(row["sequence"]) + 1,
    )
