"""Consumer-group positioning for test and benchmark platforms."""

from __future__ import annotations

from collections.abc import Iterable


async def start_groups_at_end(bootstrap: str, groups: Iterable[str]) -> None:
    """Commit every topic's end offsets for `groups` before their consumers start.

    A new group reads from the earliest offset, and the shared topics hold whatever
    earlier runs produced (poison messages included): a fleet's consumers should see
    only the events the fleet's own run causes. Partitions come from the admin API: a
    consumer that subscribed to nothing knows no partitions of most topics.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if not t.startswith("__")]
        described = await admin.describe_topics(topics) if topics else []
    finally:
        await admin.close()
    partitions = [
        TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
    ]
    if not partitions:
        return
    for group in groups:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit(dict(ends))
        finally:
            await consumer.stop()
