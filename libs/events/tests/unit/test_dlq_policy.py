"""The DLQ brake: stop a consumer whose input is mostly poison instead of dead-lettering it all."""

from __future__ import annotations

import pytest
from chorus_events.dlq import DeadLetterLimitExceeded, DeadLetterPolicy

pytestmark = pytest.mark.unit


def test_isolated_poison_never_trips_the_limit() -> None:
    policy = DeadLetterPolicy(max_consecutive=5, max_ratio=0.5, window=100, min_samples=20)
    for i in range(10_000):
        policy.record(i % 10 == 0)  # 10% poison, never 5 in a row
        policy.check()


def test_consecutive_poison_stops_at_the_limit() -> None:
    policy = DeadLetterPolicy(max_consecutive=5)
    for _ in range(4):
        policy.record(True)
        policy.check()
    policy.record(True)
    with pytest.raises(DeadLetterLimitExceeded, match="5 consecutive"):
        policy.check()


def test_a_good_message_resets_the_consecutive_count() -> None:
    policy = DeadLetterPolicy(max_consecutive=3, max_ratio=1.0)
    for _ in range(100):
        policy.record(True)
        policy.record(True)
        policy.record(False)
        policy.check()


def test_high_ratio_over_the_window_stops_even_without_long_runs() -> None:
    policy = DeadLetterPolicy(max_consecutive=1000, max_ratio=0.5, window=100, min_samples=50)
    with pytest.raises(DeadLetterLimitExceeded, match="recent messages were poison"):
        for i in range(200):
            policy.record(i % 3 != 0)  # two thirds poison
            policy.check()


def test_ratio_needs_enough_samples_and_forgets_old_messages() -> None:
    policy = DeadLetterPolicy(max_consecutive=1000, max_ratio=0.9, window=100, min_samples=50)
    for _ in range(40):  # 100% poison, but below min_samples
        policy.record(True)
        policy.check()
    for _ in range(100):  # the window slides past the poison
        policy.record(False)
        policy.check()
    assert policy._poison_in_window == 0


def test_a_retried_batch_does_not_count_its_poison_twice() -> None:
    from aiokafka.structs import ConsumerRecord
    from chorus_events.consumer import ConsumerConfig, ConsumerRunner

    runner = ConsumerRunner(
        bootstrap="127.0.0.1:1",
        pool=None,  # type: ignore[arg-type]  # never touched: no message is applied
        handler=None,  # type: ignore[arg-type]
        service="unit",
        config=ConsumerConfig(group="g", specs=[], dead_letter_policy=lambda: DeadLetterPolicy(3)),
    )
    poison = ConsumerRecord("t", 0, 7, 0, 0, b"k", b"v", None, 1, 1, [])
    for _ in range(10):  # the same poison message redelivered by ten retries
        runner._count_for_policy(poison, poison=True)
        runner._policy.check()
    assert runner._policy._consecutive == 1
