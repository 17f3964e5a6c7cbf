"""The one Kafka producer wrapper, and topic provisioning.

Every record Chorus writes to Kafka goes through `KafkaPublisher`: idempotent
(`enable_idempotence=True`, hence `acks=all`), so a retried send never appears
twice in a partition and per-partition order survives retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaTimeoutError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    TopicAlreadyExistsError,
    UnknownProducerId,
)
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from chorus_platform.metrics import EVENTS_PRODUCED

from chorus_events.envelope import KafkaRecord

log = logging.getLogger(__name__)
Partitioner = Callable[[bytes | None, list[int], list[int]], int]
"""aiokafka's partitioner signature: (key, all partitions, available partitions) → partition."""

PRODUCER_FATAL: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
)
"""Errors after which this producer can never send again: it must be rebuilt."""


class KafkaPublisher:
    def __init__(
        self,
        bootstrap: str,
        service: str,
        *,
        request_timeout_ms: int = 10_000,
        linger_ms: int = 5,
        partitioner: Partitioner | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.service = service
        self.request_timeout_ms = request_timeout_ms
        # 5 ms batches the relay's bursts; a latency-bound caller (a click that must be
        # durable before its redirect) passes 0.
        self.linger_ms = linger_ms
        self.partitioner: Partitioner = partitioner or DefaultPartitioner()
        self._producer: AIOKafkaProducer | None = None
        # publish_grouped(): records waiting for the next group send, and that send's task.
        self._grouped: list[tuple[KafkaRecord, asyncio.Future[None]]] = []
        self._group_sender: asyncio.Task[None] | None = None
        # Concurrent first publishes must not each build (and leak) a producer.
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        if self._producer is not None:
            return
        async with self._starting:
            if self._producer is not None:
                return
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                enable_idempotence=True,
                acks="all",
                linger_ms=self.linger_ms,
                partitioner=self.partitioner,
                request_timeout_ms=self.request_timeout_ms,
                client_id=f"chorus-{self.service}",
            )
            try:
                await producer.start()
            except BaseException:
                # A producer that failed to start is not reusable: close it, build anew.
                await producer.stop()
                raise
            self._producer = producer

    async def stop(self) -> None:
        if self._group_sender is not None:
            with contextlib.suppress(Exception):
                await self._group_sender
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def _replace(self, failed: AIOKafkaProducer, exc: BaseException) -> None:
        """Drop a producer whose idempotence state the broker no longer accepts.

        After a broker restart the broker may answer OutOfOrderSequenceNumber (or
        UnknownProducerId) forever to the producer id it had (aiokafka does not bump
        the epoch itself: aio-libs/aiokafka#1017). A new producer gets a new id; the
        caller's retry may then duplicate what was already written, which consumers
        drop by event id.
        """
        if id(self._producer) != id(failed):
            return  # a concurrent caller replaced it already
        self._producer = None
        log.warning("kafka producer for %s reset after %r", self.service, exc)
        with contextlib.suppress(Exception):
            await failed.stop()

    async def publish(self, records: Sequence[KafkaRecord]) -> list[int]:
        """Send `records` in order and wait until Kafka acknowledged all; return partitions.

        Raises on any failure; the caller decides to retry (the outbox keeps rows
        unsent, a consumer keeps its offsets uncommitted).
        """
        await self.start()
        producer = self._producer
        assert producer is not None
        try:
            futures = [
                await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers)
                for r in records
            ]
            metadata = await asyncio.gather(*futures)
        except PRODUCER_FATAL as exc:
            await self._replace(producer, exc)
            raise

        for record in records:
            EVENTS_PRODUCED.labels(self.service, record.topic).inc()
        return [m.partition for m in metadata]

    async def publish_grouped(self, record: KafkaRecord) -> None:
        """Send one record and wait until Kafka acknowledged it, grouped with concurrent callers.

        For many concurrent latency-bound single sends (a click before its redirect):
        while one group is in flight, arriving records queue; the next group goes out
        as one pre-built batch per partition (group commit). A caller then costs an
        append to a batch instead of a produce call, a future and a metadata object of
        its own. Same guarantees as `publish`: idempotent, acks=all, per-partition
        order, and the caller returns only after its own record's ack. A caller that
        gives up (cancelled) may still see its record delivered.
        """
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._grouped.append((record, waiter))
        if self._group_sender is None or self._group_sender.done():
            self._group_sender = asyncio.create_task(self._send_groups(), name="kafka-group-send")
        await waiter

    async def _send_groups(self) -> None:
        while self._grouped:
            group, self._grouped = self._grouped, []
            try:
                await self._send_group([record for record, _ in group])
            except Exception as exc:
                for _, waiter in group:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            for _, waiter in group:
                if not waiter.done():
                    waiter.set_result(None)

    async def _send_group(self, records: list[KafkaRecord]) -> None:
        await self.start()
        producer = self._producer
        assert producer is not None
        by_partition: dict[tuple[str, int], list[KafkaRecord]] = {}
        partitions: dict[str, list[int]] = {}
        for record in records:
            if record.topic not in partitions:
                # The same order aiokafka hands its partitioner (one metadata set).
                partitions[record.topic] = list(await producer.partitions_for(record.topic))
            every = partitions[record.topic]
            partition = self.partitioner(record.key, every, every)
            by_partition.setdefault((record.topic, partition), []).append(record)
        sent = []
        for (topic, partition), batch_records in by_partition.items():
            batch = producer.create_batch()
            for record in batch_records:
                if not _append(batch, record):  # the batch is full: send it, start another
                    sent.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if not _append(batch, record):
                        raise ValueError(f"a record for {topic} is larger than a whole batch")
            sent.append(await producer.send_batch(batch, topic, partition=partition))
        try:
            await asyncio.gather(*sent)
        except PRODUCER_FATAL as exc:
            await self._replace(producer, exc)
            raise
        for (topic, _), batch_records in by_partition.items():
            EVENTS_PRODUCED.labels(self.service, topic).inc(len(batch_records))


def _append(batch: BatchBuilder, record: KafkaRecord) -> bool:
    appended = batch.append(
        key=record.key, value=record.value, timestamp=None, headers=record.headers
    )
    return appended is not None


async def ensure_topics(
    bootstrap: str, topics: Iterable[str], partitions: int, replication_factor: int = 1
) -> None:
    """Create the missing ones of `topics` with `partitions` partitions each."""
    wanted = sorted(set(topics))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return
        new = [NewTopic(t, partitions, replication_factor) for t in missing]
        # A replica may create the same topic between our list and our create.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
        log.info("created topics %s", missing)
        await _until_served(admin, missing)
    finally:
        await admin.close()


TOPIC_READY_DEADLINE: Final = 30.0


async def _until_served(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    """Wait until the broker's metadata lists `topics` with a leader for every partition.

    The controller acknowledges a creation before the broker's metadata cache has
    it. A consumer subscribing in that window is told the topic does not exist,
    is assigned nothing, and only looks again at its next metadata refresh
    (`metadata_max_age_ms`, 5 minutes): on a fresh stack a service would sit idle.
    """
    deadline = time.monotonic() + TOPIC_READY_DEADLINE
    while True:
        described = await admin.describe_topics(topics)
        served = {
            t["topic"]
            for t in described
            if t["error_code"] == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if served >= set(topics):
            return
        if time.monotonic() > deadline:
            raise KafkaTimeoutError(
                f"topics not served after creation: {sorted(set(topics) - served)}"
            )
        await asyncio.sleep(0.05)
