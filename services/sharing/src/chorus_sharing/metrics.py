"""Business metrics of the sharing service (same registry as the platform's, see /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Shares by network and outcome: the adoption signal ops and program leaders watch.
SHARES = Counter(
    "chorus_sharing_shares_total",
    "Shares created, by network and state (posted now or scheduled).",
    ["network", "state"],
)
SHARES_REFUSED = Counter(
    "chorus_sharing_shares_refused_total",
    "Share requests refused by a business rule, by reason (problem type).",
    ["reason"],
)
# Redirect outcomes: a rise in "not_found" is link scanning; "unrecorded" means 503s.
REDIRECTS = Counter(
    "chorus_sharing_redirects_total",
    "Tracked-link requests by outcome: redirected, not_found, unrecorded.",
    ["outcome"],
)
CLICKS_RECORDED = Counter(
    "chorus_sharing_clicks_recorded_total",
    "Click durability attempts by recorder (kafka/outbox) and result.",
    ["recorder", "result"],
)
LINK_CACHE = Counter(
    "chorus_sharing_link_cache_total",
    "Tracked-link lookups by cache result: hit, negative_hit, miss.",
    ["result"],
)
GUIDELINE_CHECK_LATENCY = Histogram(
    "chorus_sharing_guideline_check_seconds",
    "Round trip of the content service's caption check.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
SCHEDULED_PUBLISHED = Counter(
    "chorus_sharing_scheduled_published_total",
    "Scheduled shares handled by the scheduler, by result (posted, cancelled).",
    ["result"],
)
