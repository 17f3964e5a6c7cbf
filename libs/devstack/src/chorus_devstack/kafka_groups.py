"""Consumer-group positioning for test and benchmark platforms."""

from __future__ import annotations

from collections.abc import Iterable


async def start_groups_at_end(bootstrap: str, groups: Iterable[str]) -> None:
    """Commit every topic's end offsets for `groups` before their consumers start.

    A new group reads from the earliest offset, and the shared topics hold whatever
    earlier runs produced (poison messages included): a fleet's consumers should see
    only the events the fleet's own run causes.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    for group in groups:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            topics = [t for t in await consumer.topics() if not t.startswith("__")]
            partitions = [
                TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
            ]
            if partitions:
                consumer.assign(partitions)
                ends = await consumer.end_offsets(partitions)
                await consumer.commit(dict(ends))
        finally:
            await consumer.stop()
