"""The one Kafka producer wrapper, and topic provisioning.

Every record Chorus writes to Kafka goes through `KafkaPublisher`: idempotent
(`enable_idempotence=True`, hence `acks=all`), so a retried send never appears
twice in a partition and per-partition order survives retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    InvalidProducerEpoch,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    TopicAlreadyExistsError,
    UnknownProducerId,
)
from chorus_platform.metrics import EVENTS_PRODUCED

from chorus_events.envelope import KafkaRecord

log = logging.getLogger(__name__)

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
    ) -> None:
        self.bootstrap = bootstrap
        self.service = service
        self.request_timeout_ms = request_timeout_ms
        # 5 ms batches the relay's bursts; a latency-bound caller (a click that must be
        # durable before its redirect) passes 0.
        self.linger_ms = linger_ms
        self._producer: AIOKafkaProducer | None = None
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
    finally:
        await admin.close()
