"""Building and producing share.posted / engagement.updated events for the tests.

Events are encoded with `chorus_events.envelope.encode` (exactly what a
producing service's outbox writes) and sent with a plain AIOKafkaProducer to
the app's prefixed topics.
"""

from __future__ import annotations

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
