"""Everything a simulated program will do, decided up front from a seed.

The plan speaks in local indexes (advocate 7, item 3, share 41); the run maps them to
the ids the platform assigns. Realism that matters for the checks:
- activity is skewed: advocate i shares with weight 1/(i+1)^1.1, so a few power users
  make most shares and a long tail shares once or never;
- the traffic mixes humans, repeat visits (duplicates), crawlers (bots) and one burst
  from a single /24 network;
- each human visit comes from its own /24 network, so nothing but the planned burst
  can look like one to the fraud rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from chorus_simulator.scale import Scale

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
)
NETWORK_MIX = (("linkedin", 45), ("x", 25), ("facebook", 10), ("xing", 10), ("email", 10))
REPORTING_NETWORKS = frozenset({"linkedin", "x", "facebook", "xing"})
CAMPAIGNS = ("#launch2026", "#hiring", "#sustainability")
CATEGORIES = ("product_announcements", "thought_leadership", "recruiting", "culture")
BURST_NETWORK = "198.51.100"
"""The burst's /24 (TEST-NET-2)."""


class Visit(StrEnum):
    HUMAN = "human"
    REPEAT = "repeat"
    """The same person (address and browser) on the same share again: a duplicate."""
    CRAWLER = "crawler"
    BURST = "burst"


@dataclass(frozen=True)
class PlannedItem:
    index: int
    hashtags: tuple[str, ...]
    team: int | None
    """Targeted at this team only, or everyone."""
    category: str


@dataclass(frozen=True)
class PlannedShare:
    index: int
    advocate: int
    item: int
    network: str


@dataclass(frozen=True)
class PlannedClick:
    share: int
    address: str
    user_agent: str
    visit: Visit


@dataclass(frozen=True)
class PlannedReport:
    share: int
    kind: str
    """reactions | comments | reshares | impressions"""
    count: int


@dataclass
class Plan:
    seed: int
    scale: Scale
    advocate_team: list[int] = field(default_factory=list)
    items: list[PlannedItem] = field(default_factory=list)
    shares: list[PlannedShare] = field(default_factory=list)
    clicks: list[PlannedClick] = field(default_factory=list)
    reports: list[PlannedReport] = field(default_factory=list)


def human_address(n: int) -> str:
    """The n-th visitor's address: a /24 of its own for every n."""
    return f"{10 + n // 65_536}.{(n // 256) % 256}.{n % 256}.{1 + n % 200}"


def make_plan(scale: Scale, seed: int = 7) -> Plan:
    rng = random.Random(seed)
    plan = Plan(seed=seed, scale=scale)
    plan.advocate_team = [i % scale.teams for i in range(scale.advocates)]
    for i in range(scale.items):
        tags = tuple(sorted(rng.sample(CAMPAIGNS, k=rng.choice((0, 1, 1, 2)))))
        team = rng.randrange(scale.teams) if rng.random() < 0.25 else None
        plan.items.append(PlannedItem(i, tags, team, rng.choice(CATEGORIES)))
    _plan_shares(plan, rng)
    _plan_clicks(plan, rng)
    _plan_reports(plan, rng)
    return plan


def _plan_shares(plan: Plan, rng: random.Random) -> None:
    scale = plan.scale
    weights = [1 / (i + 1) ** 1.1 for i in range(scale.advocates)]
    networks = [n for n, _ in NETWORK_MIX]
    network_weights = [w for _, w in NETWORK_MIX]
    taken: set[tuple[int, int, str]] = set()
    attempts = 0
    while len(plan.shares) < scale.shares and attempts < scale.shares * 50:
        attempts += 1
        advocate = rng.choices(range(scale.advocates), weights)[0]
        item = rng.randrange(scale.items)
        target = plan.items[item].team
        if target is not None and target != plan.advocate_team[advocate]:
            continue  # not in this advocate's feed
        network = rng.choices(networks, network_weights)[0]
        if (advocate, item, network) in taken:
            continue  # the platform refuses the same share twice to one network
        taken.add((advocate, item, network))
        plan.shares.append(PlannedShare(len(plan.shares), advocate, item, network))


def _plan_clicks(plan: Plan, rng: random.Random) -> None:
    scale = plan.scale
    if not plan.shares:
        return
    # Some shares travel far, most do not: a heavy-tailed appeal per share.
    appeal = [rng.paretovariate(1.2) for _ in plan.shares]
    humans: list[PlannedClick] = []
    visitor = 0
    regular = scale.clicks - scale.burst
    for _ in range(regular):
        share = rng.choices(range(len(plan.shares)), appeal)[0]
        roll = rng.random()
        if roll < scale.bot_share:
            click = PlannedClick(share, human_address(visitor), rng.choice(CRAWLERS), Visit.CRAWLER)
            visitor += 1
        elif roll < scale.bot_share + scale.duplicate_share and humans:
            first = rng.choice(humans)
            click = PlannedClick(first.share, first.address, first.user_agent, Visit.REPEAT)
        else:
            click = PlannedClick(share, human_address(visitor), rng.choice(BROWSERS), Visit.HUMAN)
            humans.append(click)
            visitor += 1
        plan.clicks.append(click)
    target = max(range(len(plan.shares)), key=lambda s: appeal[s])
    for host in range(scale.burst):
        plan.clicks.append(
            PlannedClick(
                target,
                f"{BURST_NETWORK}.{1 + host % 250}",
                BROWSERS[host % len(BROWSERS)],
                Visit.BURST,
            )
        )


def _plan_reports(plan: Plan, rng: random.Random) -> None:
    for share in plan.shares:
        if share.network not in REPORTING_NETWORKS or rng.random() >= plan.scale.reported_share:
            continue
        # Two polls' worth of increments per kind: collectors report as they go.
        for kind, top in (
            ("reactions", 40),
            ("comments", 8),
            ("reshares", 5),
            ("impressions", 4_000),
        ):
            for _ in range(2):
                count = rng.randint(0, top)
                if count:
                    plan.reports.append(PlannedReport(share.index, kind, count))
