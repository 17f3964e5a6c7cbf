"""The ledger consumer as a service worker: the backbone's `ConsumerRunner`, configured.

Built here rather than with `chorus_events.workers.consumer` because that factory
passes neither `trace_messages` (per-event spans are the runner's largest cost
when they are exported) nor topics of our choosing (a prefix isolates test and
benchmark runs from everyone else's events on the shared topics).

Co-partitioned (range assignment): both topics are keyed by tenant and advocate with the
same partition count, so every event of one advocate reaches one group member, which
writes that advocate's board cells in commit order (`board_sync`). Round-robin, aiokafka's
default, gives partition i of `share.posted` and of `engagement.updated` to different
members (two replicas, as `deploy/kubernetes` runs, or `consumer_instances` > 1), whose
after-commit writes of one advocate's cells could then land in either order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from chorus_events.consumer import ConsumerConfig, ConsumerRunner, Handler
from chorus_events.contracts.registry import ENGAGEMENT_UPDATED, SHARE_POSTED, EventSpec
from chorus_events.retention import TrackingRetention
from chorus_platform.app import ServiceContext, Worker, WorkerFactory

from chorus_rewards.settings import RewardsSettings


def consumed_specs(topic_prefix: str = "") -> list[EventSpec[Any]]:
    specs: list[EventSpec[Any]] = [SHARE_POSTED, ENGAGEMENT_UPDATED]
    if not topic_prefix:
        return specs
    return [dataclasses.replace(s, topic=topic_prefix + s.topic) for s in specs]


def ledger_consumer(
    settings: RewardsSettings,
    handler_for: Callable[[ServiceContext], Handler],
    *,
    purges: bool = True,
) -> WorkerFactory:
    """`purges`: this runner also purges the group's old tracking rows; one of the
    process's `consumer_instances` is enough (they would repeat each other's deletes)."""

    def build(ctx: ServiceContext) -> Worker:
        runner = ConsumerRunner(
            bootstrap=settings.kafka_bootstrap,
            pool=ctx.pool,
            handler=handler_for(ctx),
            service=ctx.name,
            config=ConsumerConfig(
                group=settings.consumer_group,
                specs=consumed_specs(settings.topic_prefix),
                batch_size=settings.consumer_batch_size,
                batch_timeout_ms=settings.consumer_batch_timeout_ms,
                partitions=settings.kafka_partitions,
                trace_messages=settings.trace_messages,
                co_partitioned=True,
                tracking_retention=TrackingRetention() if purges else None,
            ),
        )
        ctx.extras.setdefault("consumers", []).append(runner)
        return runner

    return build
