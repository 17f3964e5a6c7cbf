"""The engines integration tests get are the real thing, not stand-ins.

Each test talks the engine's own protocol through the same client libraries the
services use, and checks something only the real server can answer: Kafka's cluster
id and consumer-group offsets, Postgres's `version()` and cross-connection visibility,
Redis's `INFO server`.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration


async def test_kafka_is_a_real_cluster_that_delivers_and_remembers_offsets(
    kafka_bootstrap: str,
) -> None:
    topic = f"devstack-check-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        assert cluster["cluster_id"], "a KRaft cluster always has an id"
        assert cluster["controller_id"] >= 0
        assert len(cluster["brokers"]) >= 1
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, key=b"tenant:1", value=b"hello chorus")
    finally:
        await producer.stop()
    assert sent.offset == 0

    group = f"devstack-check-{uuid.uuid4().hex}"
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            received = await consumer.getone()
        assert (received.key, received.value) == (b"tenant:1", b"hello chorus")
        partition = TopicPartition(topic, 0)
        await consumer.commit({partition: received.offset + 1})
        # Read back from the group coordinator: a real __consumer_offsets topic.
        assert await consumer.committed(partition) == 1
    finally:
        await consumer.stop()


async def test_postgres_is_real_and_commits_are_visible_to_other_connections(
    postgres_dsn: str,
) -> None:
    writer = await asyncpg.connect(postgres_dsn)
    reader = await asyncpg.connect(postgres_dsn)
    try:
        version = await writer.fetchval("SELECT version()")
        assert version.startswith("PostgreSQL")
        assert (await writer.fetchval("SELECT current_database()")).startswith("chorus_test_")
        # The database is fresh for this session, so a fixed table name cannot collide.
        await writer.execute("CREATE TABLE devstack_check (id int PRIMARY KEY, body text NOT NULL)")
        async with writer.transaction():
            await writer.execute("INSERT INTO devstack_check VALUES (1, 'persisted')")
            assert await reader.fetchval("SELECT count(*) FROM devstack_check") == 0, "uncommitted"
        assert await reader.fetchval("SELECT body FROM devstack_check WHERE id = 1") == "persisted"
        with pytest.raises(asyncpg.UniqueViolationError):
            await writer.execute("INSERT INTO devstack_check VALUES (1, 'again')")
    finally:
        await writer.close()
        await reader.close()


async def test_redis_is_real_and_shared_between_clients(redis_url: str) -> None:
    first = aioredis.Redis.from_url(redis_url)
    second = aioredis.Redis.from_url(redis_url)
    try:
        info = await first.info("server")
        assert info["redis_version"]
        key = f"devstack:check:{uuid.uuid4().hex}"
        assert await first.set(key, "stored", ex=60)
        assert await second.get(key) == b"stored"
        await first.zadd(f"{key}:board", {"ada": 3, "bob": 5})
        assert await second.zrevrange(f"{key}:board", 0, -1) == [b"bob", b"ada"]
        await first.delete(key, f"{key}:board")
    finally:
        await first.aclose()
        await second.aclose()
