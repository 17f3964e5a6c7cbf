"""Wiring the backbone into a service: worker factories for `ServiceSpec.workers`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chorus_platform.app import ServiceContext, Worker, WorkerFactory
from chorus_platform.migrate import MigrationSet

from chorus_events.bus import KafkaPublisher
from chorus_events.consumer import ConsumerConfig, ConsumerRunner, Handler
from chorus_events.contracts.registry import EventSpec
from chorus_events.relay import OutboxRelay, RelayConfig

# The backbone's own tables (outbox, processed_events), applied to every service schema.
EVENTS_MIGRATIONS = MigrationSet("chorus_events", "chorus_events")


def outbox_relay(config: RelayConfig | None = None) -> WorkerFactory:
    def build(ctx: ServiceContext) -> Worker:
        publisher = KafkaPublisher(ctx.settings.kafka_bootstrap, ctx.name)
        relay = OutboxRelay(ctx.pool, ctx.settings.database_url, ctx.name, publisher, config)
        ctx.extras["outbox_relay"] = relay
        return relay

    return build


def topic_partitions(ctx: ServiceContext, specs: Sequence[EventSpec[Any]]) -> int:
    """The partition count a consumer of `specs` creates its missing topics with."""
    if any(spec.high_volume for spec in specs):
        return ctx.settings.kafka_raw_partitions
    return ctx.settings.kafka_partitions


def consumer(
    group: str,
    specs: Sequence[EventSpec[Any]],
    handler: Handler,
    *,
    batch_size: int = 500,
    batch_timeout_ms: int = 200,
    trace_messages: bool | None = None,
    tracked: bool = True,
) -> WorkerFactory:
    def build(ctx: ServiceContext) -> Worker:
        runner = ConsumerRunner(
            bootstrap=ctx.settings.kafka_bootstrap,
            pool=ctx.pool,
            handler=handler,
            service=ctx.name,
            config=ConsumerConfig(
                group=group,
                specs=specs,
                batch_size=batch_size,
                batch_timeout_ms=batch_timeout_ms,
                partitions=topic_partitions(ctx, specs),
                trace_messages=trace_messages,
                tracked=tracked,
            ),
        )
        ctx.extras.setdefault("consumers", []).append(runner)
        return runner

    return build
