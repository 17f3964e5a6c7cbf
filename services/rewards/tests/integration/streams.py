"""Building and producing share.posted / engagement.updated events for the tests.

Events are encoded with `chorus_events.envelope.encode` (exactly what a
producing service's outbox writes) and sent with a plain AIOKafkaProducer to
the app's prefixed topics.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from chorus_events.contracts.base import Measurement, Network
from chorus_events.contracts.engagement import (
    EngagementDeltas,
    EngagementTotals,
    EngagementUpdated,
    MeasurementLabels,
)
from chorus_events.contracts.sharing import SharePosted
from chorus_events.envelope import KafkaRecord, encode
from chorus_rewards.ledger_worker import consumed_specs

MEASURED = MeasurementLabels(
    clicks=Measurement.MEASURED,
    reactions=Measurement.REPORTED,
    comments=Measurement.REPORTED,
    reshares=Measurement.REPORTED,
    impressions=Measurement.REPORTED,
)
COUNTERS = ("clicks", "reactions", "comments", "reshares", "impressions")


def share_posted(
    tenant: str,
    advocate: str,
    at: datetime,
    *,
    network: Network = Network.LINKEDIN,
    share_id: str | None = None,
    teams: Sequence[str] = (),
    hashtags: Sequence[str] = (),
) -> SharePosted:
    share_id = share_id or f"s-{uuid.uuid4().hex[:12]}"
    return SharePosted(
        tenant_id=tenant,
        share_id=share_id,
        content_id="c-1",
        advocate_id=advocate,
        team_ids=tuple(teams),
        network=network,
        link_code=f"L{uuid.uuid4().hex[:8]}",
        tracked_url=f"https://go.example/L{share_id[-6:]}",
        destination_url="https://example.com/post?utm_source=chorus",
        campaign_hashtags=tuple(hashtags),
        posted_at=at,
    )


@dataclass
class ShareCounter:
    """The running validated totals of one share, as metrics would publish them."""

    share: SharePosted
    sequence: int = 0
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def update(self, at: datetime, **changes: int) -> EngagementUpdated:
        self.sequence += 1
        deltas = {k: changes.get(k, 0) for k in COUNTERS}
        for k, v in deltas.items():
            self.totals[k] = max(self.totals[k] + v, 0)
        return self.snapshot(at, deltas)

    def snapshot(self, at: datetime, deltas: dict[str, int] | None = None) -> EngagementUpdated:
        s = self.share
        return EngagementUpdated(
            tenant_id=s.tenant_id,
            share_id=s.share_id,
            content_id=s.content_id,
            advocate_id=s.advocate_id,
            team_ids=s.team_ids,
            network=s.network,
            campaign_hashtags=s.campaign_hashtags,
            window_start=at - timedelta(minutes=5),
            window_end=at,
            deltas=EngagementDeltas(**(deltas or dict.fromkeys(COUNTERS, 0))),
            totals=EngagementTotals(**self.totals),
            measurement=MEASURED,
            sequence=self.sequence,
        )


def record(
    prefix: str, payload: SharePosted | EngagementUpdated, event_id: str | None = None
) -> KafkaRecord:
    share_spec, engagement_spec = consumed_specs(prefix)
    spec: Any = share_spec if isinstance(payload, SharePosted) else engagement_spec
    return encode(spec, payload, source="/chorus/test", event_id=event_id)


async def produce(bootstrap: str, records: Iterable[KafkaRecord]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers)
            for r in records
        ]
        for f in futures:
            await f
    finally:
        await producer.stop()


NETWORKS = (
    [Network.LINKEDIN] * 10 + [Network.X] * 4 + [Network.FACEBOOK] * 3 + [Network.EMAIL] * 2
) + [Network.XING]
TEAMS = ("red", "blue", "green")
HASHTAGS = (("#Launch", "#launch", "#LAUNCH"), ("#hiring",), ("#Culture", "#culture"))


def generate_stream(
    tenant: str, seed: int, now: datetime, advocates: int = 30, days: int = 30
) -> list[SharePosted | EngagementUpdated]:
    """A realistic, seeded stream in production order: per advocate, shares and their
    engagement windows over `days` days (in the past), with cap-busting bursts, fraud
    corrections, stale replays from metrics, re-announced shares and events that
    arrive after later ones."""
    rng = random.Random(seed)
    stream: list[SharePosted | EngagementUpdated] = []
    start = now - timedelta(days=days)
    for i in range(advocates):
        advocate = f"adv-{i:03d}"
        teams = tuple(rng.sample(TEAMS, rng.choice((1, 1, 2))))
        timed: list[tuple[datetime, SharePosted | EngagementUpdated]] = []
        burst_day = start + timedelta(days=rng.randint(0, days - 5)) if i % 7 == 0 else None
        for _ in range(rng.randint(1, 7) + (12 if burst_day else 0)):
            if burst_day is not None and rng.random() < 0.7:
                posted = burst_day + timedelta(minutes=rng.randint(0, 600))
            else:
                posted = start + timedelta(minutes=rng.randint(0, (days - 4) * 1440))
            tags = tuple(rng.choice(v) for v in rng.sample(HASHTAGS, rng.randint(0, 2)))
            share = share_posted(
                tenant, advocate, posted, network=rng.choice(NETWORKS), teams=teams, hashtags=tags
            )
            timed.append((posted, share))
            if rng.random() < 0.05:
                timed.append((posted, share))  # announced twice (new event id)
            counter = ShareCounter(share)
            at = posted
            sent: list[EngagementUpdated] = []
            for _ in range(rng.randint(0, 5)):
                at += timedelta(minutes=rng.randint(5, 2000))
                changes = {
                    "clicks": rng.randint(0, 40) + (150 if rng.random() < 0.1 else 0),
                    "reactions": rng.randint(0, 10),
                    "comments": rng.randint(0, 4),
                    "reshares": rng.randint(0, 2),
                    "impressions": rng.randint(0, 3000),
                }
                if sent and rng.random() < 0.15:  # a fraud verdict takes clicks back
                    changes = {"clicks": -rng.randint(1, max(counter.totals["clicks"], 1))}
                update = counter.update(at, **changes)
                sent.append(update)
                timed.append((at, update))
            if len(sent) > 1 and rng.random() < 0.3:
                timed.append((at, sent[0]))  # metrics replays an old window
        timed.sort(key=lambda pair: pair[0])
        ordered = [event for _, event in timed]
        for j in range(1, len(ordered)):
            if rng.random() < 0.1:  # arrives after the event that followed it
                ordered[j - 1], ordered[j] = ordered[j], ordered[j - 1]
        stream.extend(ordered)
    return stream
