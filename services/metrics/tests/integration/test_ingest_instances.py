"""Several ingest consumers in one process (`ingest_consumer_instances`): partitions
shared, every click counted once."""

from __future__ import annotations

from chorus_devstack.apps import serve_app
from chorus_devstack.waiting import eventually
from chorus_events.consumer import ConsumerRunner
from chorus_events.contracts import CLICK_RECORDED, ENGAGEMENT_REPORTED, SHARE_POSTED
from chorus_metrics.app import build_spec
from chorus_platform.app import create_service_app

from .conftest import Metrics, _start_groups_at_end, click, metrics_settings, share_posted


async def test_two_ingest_consumers_share_the_partitions_and_count_every_click_once(
    metrics: Metrics,
    postgres_dsn: str,
    kafka_bootstrap: str,
    redis_url: str,
    internal_token_secret: str,
    tenant: str,
) -> None:
    settings = metrics_settings(
        postgres_dsn,
        kafka_bootstrap,
        redis_url,
        internal_token_secret,
        "inst",
        ingest_consumer_instances=2,
        flusher_enabled=False,
        outbox_relay_enabled=False,
    )
    await _start_groups_at_end(
        kafka_bootstrap,
        {
            settings.shares_group: [SHARE_POSTED.topic],
            settings.ingest_group: [CLICK_RECORDED.topic, ENGAGEMENT_REPORTED.topic],
        },
    )
    app = create_service_app(build_spec(settings))
    async with serve_app(app):
        runners: list[ConsumerRunner] = [
            r for r in app.state.ctx.extras["consumers"] if r.config.group == settings.ingest_group
        ]
        assert len(runners) == 2

        async def shared() -> bool:
            return all(r.assignment for r in runners)

        await eventually(shared, what="both ingest consumers assigned")
        assert not runners[0].assignment & runners[1].assignment

        # 40 shares on 3 partitions: the odds that one member gets none are (2/3)^40.
        shares = [f"s-{i}" for i in range(40)]
        await metrics.produce(SHARE_POSTED, *(share_posted(tenant, s) for s in shares))
        await metrics.produce(CLICK_RECORDED, *(click(tenant, s) for s in shares for _ in range(2)))

        async def counted() -> bool:
            total = await metrics.fetchval(
                "SELECT coalesce(sum(clicks), 0) FROM shares WHERE tenant_id = $1", tenant
            )
            return bool(total == 2 * len(shares))

        async def applied() -> bool:
            return sum(r.stats.applied for r in runners) == 2 * len(shares)

        await eventually(applied, what="both members applied every click between them")
        assert all(r.stats.applied > 0 for r in runners), "both members took a share"
        # The session's own app counts these clicks too (its own group): the clicks
        # table keeps each once, whichever group stores it first.
        await eventually(counted, what="every click counted once")
        assert await counted()
