"""Business metrics of the rewards service (same default registry as the platform's)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

POINTS = Counter(
    "chorus_rewards_points_total",
    "Points written to the ledger, by entry kind and sign (awarded / taken back).",
    ["kind", "sign"],
)
STALE_UPDATES = Counter(
    "chorus_rewards_stale_engagement_updates_total",
    "engagement.updated events ignored because their share had a higher sequence already.",
)
CAPPED_POINTS = Counter(
    "chorus_rewards_capped_points_total",
    "Points forfeited to daily caps, by action.",
    ["action"],
)
BOARD_WRITES = Counter(
    "chorus_rewards_board_writes_total",
    "Leaderboard members written to Redis (absolute ZADD).",
)
BOARD_WRITE_FAILURES = Counter(
    "chorus_rewards_board_write_failures_total",
    "After-commit Redis writes given up; rankings drift until the next change or a rebuild.",
)
LATE_BUCKETS = Counter(
    "chorus_rewards_late_buckets_total",
    "Board cells of older buckets recomputed from the ledger (events arriving out of order).",
)
REDEMPTIONS = Counter(
    "chorus_rewards_redemptions_total",
    "Redemption attempts by outcome.",
    ["outcome"],
)
LEADERBOARD_READ = Histogram(
    "chorus_rewards_leaderboard_read_seconds",
    "Redis time of one leaderboard read, by kind (top, rank).",
    ["kind"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)
