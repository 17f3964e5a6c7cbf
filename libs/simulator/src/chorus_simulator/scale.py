"""How big a simulated program is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    teams: int
    advocates: int
    items: int
    shares: int
    clicks: int
    burst: int
    """Clicks in the one burst (one share, one /24 network, seconds apart)."""
    bot_share: float = 0.05
    duplicate_share: float = 0.08
    reported_share: float = 0.5
    """Fraction of shares whose network reports engagement."""
    concurrency: int = 16


SCALES: dict[str, Scale] = {
    # `make test`: the journey and every fault test; about half a minute of traffic.
    "small": Scale(teams=3, advocates=18, items=6, shares=60, clicks=300, burst=12),
    # `make up`'s demo tenant: enough to make every screen interesting.
    "demo": Scale(teams=5, advocates=40, items=20, shares=250, clicks=1_500, burst=15),
    # bench/journey_bench.py on a two-core machine within minutes.
    "large": Scale(
        teams=50,
        advocates=2_000,
        items=200,
        shares=5_000,
        clicks=20_000,
        burst=40,
        concurrency=32,
    ),
    # bench/journey_bench.py: the program size; people sign in through SSO.
    "full": Scale(
        teams=50,
        advocates=10_000,
        items=200,
        shares=20_000,
        clicks=100_000,
        burst=40,
        concurrency=48,
    ),
}
