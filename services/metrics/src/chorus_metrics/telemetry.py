"""Business metrics of the metrics service (one registry, each with its meaning)."""

from __future__ import annotations

from prometheus_client import Counter

CLICKS_JUDGED = Counter(
    "chorus_metrics_clicks_judged_total",
    "Tracked-link clicks judged, by verdict ('valid' or the rejection reason).",
    ["verdict"],
)
CLICKS_HELD = Counter(
    "chorus_metrics_clicks_held_total",
    "Clicks held because their share was not known yet (matched when it arrives).",
)
CLICKS_REVOKED = Counter(
    "chorus_metrics_clicks_revoked_total",
    "Counted clicks taken back by a late verdict (negative corrections).",
)
REPORTED_INGESTED = Counter(
    "chorus_metrics_reported_ingested_total",
    "Network-reported observations stored, by status (valid, rejected, pending).",
    ["status"],
)
ENGAGEMENT_EMITTED = Counter(
    "chorus_metrics_engagement_updated_total",
    "engagement.updated events appended to the outbox.",
)
