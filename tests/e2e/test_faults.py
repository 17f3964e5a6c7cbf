"""Faults while a program runs: each ends with the journey's exact equality.

On loopback, bounded, self-stopping: a service killed with SIGKILL and restarted, Kafka
stopped for 20 s, PostgreSQL restarted, Redis flushed and the rankings rebuilt, and
poison messages on every topic (they must land in the dead-letter topics)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from chorus_devstack.control import EngineControl
from chorus_devstack.fleet import SERVICES
from chorus_events.contracts.dlq import CONSUMER_GROUP
from chorus_events.contracts.registry import ALL_SPECS

from .conftest import Program
from .faults import run_with_fault

KAFKA_OUTAGE_SECONDS = 20.0
"""The issue's figure: long enough for every producer and consumer to notice."""


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_killed_mid_stream_loses_and_doubles_nothing(
    program: Program, service: str
) -> None:
    fleet = program.fleet

    async def kill_and_restart() -> None:
        fleet.kill(service)
        await fleet.start(service)

    *_, result = await run_with_fault(program, f"kill -9 {service}", kill_and_restart, seed=21)
    assert result.differences == [], "\n".join(result.differences)


async def test_kafka_stopped_for_20_seconds(program: Program, kafka_control: EngineControl) -> None:
    async def outage() -> None:
        await kafka_control.stop()
        await asyncio.sleep(KAFKA_OUTAGE_SECONDS)  # the fault's length, not a synchronisation
        await kafka_control.start()

    record, _, result = await run_with_fault(program, "kafka stopped 20 s", outage, seed=22)
    assert result.differences == [], "\n".join(result.differences)
    # Redirects could not be made durable while Kafka was away: visitors retried.
    assert all(c.status == 302 for c in record.clicks)


async def test_postgres_restarted(program: Program, postgres_control: EngineControl) -> None:
    async def restart() -> None:
        await postgres_control.stop()
        await postgres_control.start()

    *_, result = await run_with_fault(program, "postgres restarted", restart, seed=23)
    assert result.differences == [], "\n".join(result.differences)


async def test_redis_flushed_and_rankings_rebuilt(program: Program, redis_url: str) -> None:
    import redis.asyncio as aioredis

    tenant = program.tenant.tenant_id
    env = program.fleet.env_for("rewards")

    async def flush_and_rebuild() -> None:
        client = aioredis.from_url(redis_url)
        try:
            await client.flushdb()
        finally:
            await client.aclose()
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "chorus_rewards", "rebuild", "--tenant", tenant],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    *_, result = await run_with_fault(program, "redis flushed + rebuild", flush_and_rebuild, 24)
    assert result.differences == [], "\n".join(result.differences)


# Topic -> how many of the fleet's consumer groups read it (each dead-letters its copy).
POISONED_TOPICS = {
    "content.approved": 2,  # sharing, metrics
    "content.retired": 2,
    "share.posted": 2,  # metrics, rewards
    "engagement.updated": 1,  # rewards
    "clicks.raw": 1,  # metrics
    "engagement.raw": 1,
}
POISON_PER_TOPIC = 20


async def test_poison_on_every_topic_lands_in_the_dead_letter_topics(
    program: Program, kafka_bootstrap: str
) -> None:
    marker = uuid.uuid4().hex
    tenant = program.tenant.tenant_id

    async def poison() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for spec in ALL_SPECS:  # a real type, so each consumer tries to decode it
                for i in range(POISON_PER_TOPIC):
                    headers = [
                        ("ce_specversion", b"1.0"),
                        ("ce_id", f"{marker}-{spec.topic}-{i}".encode()),
                        ("ce_source", b"/poison"),
                        ("ce_type", spec.ce_type.encode()),
                        ("ce_time", b"2026-11-27T00:00:00Z"),
                        ("content-type", b"application/json"),
                    ]
                    value = json.dumps({"poison": marker, "n": i}).encode()[:-1]  # not JSON
                    key = f"{tenant}:poison-{i}".encode()
                    await producer.send_and_wait(spec.topic, value, key=key, headers=headers)
        finally:
            await producer.stop()

    *_, result = await run_with_fault(program, "poison on every topic", poison, seed=25)
    assert result.differences == [], "\n".join(result.differences)
    landed = await dead_lettered(
        kafka_bootstrap, marker, set(program.fleet.consumer_groups().values())
    )
    want = {f"{t}.dlq": n * POISON_PER_TOPIC for t, n in POISONED_TOPICS.items()}
    assert landed == want


async def dead_lettered(bootstrap: str, marker: str, groups: set[str]) -> dict[str, int]:
    """How many messages carrying `marker` each dead-letter topic holds from `groups`
    (read from the beginning up to the end offsets seen once the partitions are
    assigned). Other live consumers of the shared topics dead-letter their own copies."""
    counts: dict[str, int] = {}
    for topic in (f"{t}.dlq" for t in POISONED_TOPICS):
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None,
            auto_offset_reset="earliest", enable_auto_commit=False,
        )  # fmt: skip
        await consumer.start()
        try:
            counts[topic] = 0
            ends: dict[TopicPartition, int] | None = None
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    counts[topic] += sum(
                        marker.encode() in (m.value or b"")
                        and dict(m.headers or ()).get(CONSUMER_GROUP, b"").decode() in groups
                        for m in messages
                    )
                assigned = list(consumer.assignment())
                if not assigned:
                    continue
                if ends is None:
                    ends = await consumer.end_offsets(assigned)
                if all([await consumer.position(tp) >= ends[tp] for tp in assigned]):
                    break
        finally:
            await consumer.stop()
    return counts
