"""Small pure pieces of the backbone: ordering lanes and the transient-error rule."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, UnknownTopicOrPartitionError
from chorus_events import workers
from chorus_events.consumer import ConsumerRunner
from chorus_events.contracts.registry import (
    ALL_SPECS,
    CLICK_RECORDED,
    ENGAGEMENT_REPORTED,
    ENGAGEMENT_UPDATED,
    SHARE_POSTED,
)
from chorus_events.errors import RejectEvent, is_transient
from chorus_events.outbox import LANES, lane_for
from chorus_events.retention import effective_keep
from chorus_platform.app import ServiceContext
from chorus_platform.settings import ServiceSettings
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_one_key_always_maps_to_the_same_lane_and_lanes_are_used_evenly() -> None:
    keys = [f"tenant-{t}:advocate-{a}".encode() for t in range(10) for a in range(1000)]
    lanes = [lane_for(k) for k in keys]
    assert lanes == [lane_for(k) for k in keys]
    counts = [lanes.count(lane) for lane in range(LANES)]
    expected = len(keys) / LANES
    assert min(counts) > 0.8 * expected and max(counts) < 1.2 * expected


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(),
        TimeoutError(),
        asyncpg.CannotConnectNowError("starting up"),
        asyncpg.AdminShutdownError("shutdown"),
        asyncpg.CrashShutdownError("crash"),
        asyncpg.TooManyConnectionsError("too many"),
        asyncpg.DiskFullError("disk full"),
        asyncpg.ConnectionDoesNotExistError("closed in the middle of operation"),
        asyncpg.InterfaceError("connection is closed"),
        # A pooled connection cut off mid-operation by a PostgreSQL restart.
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        asyncpg.SerializationError("retry"),
        KafkaConnectionError(),
        UnknownTopicOrPartitionError(),  # retriable in Kafka's own classification
    ],
)
def test_infrastructure_failures_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad data"),
        KeyError("missing"),
        RejectEvent("unknown-share", "no such share"),
        asyncpg.UniqueViolationError("duplicate"),
        asyncpg.CheckViolationError("negative balance"),
    ],
)
def test_data_and_logic_failures_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_validation_errors_are_not_transient() -> None:
    from pydantic import BaseModel

    class M(BaseModel):
        n: int

    with pytest.raises(ValidationError) as info:
        M.model_validate({"n": "x"})
    assert not is_transient(info.value)


# --- tracking retention --------------------------------------------------------


@pytest.mark.parametrize(
    ("configured_h", "topics", "expected_h"),
    [
        (360, {"t": {"retention.ms": "604800000", "segment.ms": "604800000"}}, 360),
        (24, {"t": {"retention.ms": "604800000", "segment.ms": "604800000"}}, 14 * 24 + 24),
        (24, {}, 24),
        (1, {"a": {"retention.ms": "3600000", "segment.ms": "3600000"}, "b": {}}, 14 * 24 + 24),
        (1, {"t": {"retention.ms": "-1"}}, None),
        (1, {"t": {"cleanup.policy": "compact,delete"}}, None),
    ],
)
def test_effective_keep_outlives_what_kafka_can_redeliver(
    configured_h: int, topics: dict[str, dict[str, str]], expected_h: int | None
) -> None:
    keep = effective_keep(timedelta(hours=configured_h), topics)
    assert keep == (None if expected_h is None else timedelta(hours=expected_h))


def test_consumers_of_raw_topics_create_them_with_the_raw_partition_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHORUS_KAFKA_PARTITIONS", "3")
    monkeypatch.setenv("CHORUS_KAFKA_RAW_PARTITIONS", "6")
    ctx = ServiceContext("metrics", ServiceSettings(), pool=None, redis=None)  # type: ignore[arg-type]
    runner = workers.consumer("g", [CLICK_RECORDED, ENGAGEMENT_REPORTED], _ignore)(ctx)
    assert isinstance(runner, ConsumerRunner)
    assert runner.config.partitions == 6
    assert workers.topic_partitions(ctx, [SHARE_POSTED, ENGAGEMENT_UPDATED]) == 3
    assert {s.topic for s in ALL_SPECS if s.high_volume} == {"clicks.raw", "engagement.raw"}


async def _ignore(conn: asyncpg.Connection, events: object) -> None:
    return None
