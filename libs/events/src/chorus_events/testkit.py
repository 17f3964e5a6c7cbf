"""Test and benchmark support for the backbone (like `django.test`: shipped, not used in prod).

`Ping` events on a throwaway topic let tests and benchmarks exercise the real
outbox, relay and runner without touching the platform's topics. Run as a module
it is a consumer process that kills itself hard (SIGKILL) right after a batch's
database transaction committed and before its offsets are committed — the
worst moment for effectively-once delivery:

    python -m chorus_events.testkit crash-consumer DSN SCHEMA BOOTSTRAP TOPIC GROUP N
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from chorus_platform.db import create_pool
from pydantic import BaseModel, ConfigDict

from chorus_events.bus import KafkaPublisher
from chorus_events.consumer import AfterCommit, ConsumerConfig, ConsumerRunner, Handler
from chorus_events.contracts.registry import EventSpec
from chorus_events.envelope import Envelope
from chorus_events.outbox import append_event
from chorus_events.relay import OutboxRelay, RelayConfig


class Ping(BaseModel):
    model_config = ConfigDict(frozen=True)
    tenant_id: str
    seq: int
    entity: str = "e"


def ping_spec(topic: str) -> EventSpec[Ping]:
    """A spec for `Ping` on `topic`, with a type unique to that topic."""
    return EventSpec(
        topic=topic,
        ce_type=f"io.chorus.test.{topic.replace('.', '-')}.v1",
        payload=Ping,
        key=lambda p: f"{p.tenant_id}:{p.entity}",
        producer="test",
    )


EFFECTS_DDL = "CREATE TABLE effects (id bigserial PRIMARY KEY, event_id text, seq int)"


async def record_effects(
    batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
) -> AfterCommit | None:
    """One `effects` row per applied event and no dedup of its own, so a second
    application of an event would show up as a second row."""
    await conn.executemany(
        "INSERT INTO effects (event_id, seq) VALUES ($1, $2)",
        [(env.id, env.payload.seq) for env in batch],
    )
    return None


@dataclass
class Backbone:
    """One test's isolated slice of the real infrastructure."""

    dsn: str
    schema: str
    pool: asyncpg.Pool
    bootstrap: str
    spec: EventSpec[Ping]

    @property
    def topic(self) -> str:
        return self.spec.topic

    async def append(self, seqs: Sequence[int], *, rollback: bool = False) -> None:
        async with self.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            for seq in seqs:
                await append_event(
                    conn,
                    self.spec,
                    Ping(tenant_id="t1", seq=seq, entity=f"e{seq % 7}"),
                    source="/chorus/test",
                )
            await (tx.rollback() if rollback else tx.commit())

    def relay(self, **config: Any) -> OutboxRelay:
        return OutboxRelay(
            self.pool,
            self.dsn,
            self.schema,
            KafkaPublisher(self.bootstrap, "test"),
            RelayConfig(**{"poll_interval": 0.2, **config}),
        )

    def runner(self, group: str, handler: Handler | None = None, **config: Any) -> ConsumerRunner:
        return ConsumerRunner(
            bootstrap=self.bootstrap,
            pool=self.pool,
            handler=handler or record_effects,
            service="test",
            config=ConsumerConfig(group=group, specs=[self.spec], **config),
        )

    async def effects(self) -> list[int]:
        return [r["seq"] for r in await self.pool.fetch("SELECT seq FROM effects ORDER BY id")]

    async def backlog(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))


async def _crash_consumer(
    dsn: str, schema: str, bootstrap: str, topic: str, group: str, crash_after: int
) -> None:
    pool = await create_pool(dsn, schema)
    batches = 0

    async def handler(batch: Sequence[Envelope[Any]], conn: asyncpg.Connection) -> AfterCommit:
        await record_effects(batch, conn)

        async def die() -> None:
            nonlocal batches
            batches += 1
            if batches >= crash_after:
                # Transaction committed, offsets not yet: die like `kill -9`.
                os.kill(os.getpid(), signal.SIGKILL)

        return die

    runner = ConsumerRunner(
        bootstrap=bootstrap,
        pool=pool,
        handler=handler,
        service="test",
        config=ConsumerConfig(group=group, specs=[ping_spec(topic)], batch_size=50),
    )
    await runner.start()
    await runner.wait()


def main(argv: list[str]) -> None:
    if len(argv) != 7 or argv[0] != "crash-consumer":
        sys.exit(__doc__)
    dsn, schema, bootstrap, topic, group, n = argv[1:]
    asyncio.run(_crash_consumer(dsn, schema, bootstrap, topic, group, int(n)))


if __name__ == "__main__":
    main(sys.argv[1:])
