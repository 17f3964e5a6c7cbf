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


def test_a_retried_batch_does_not_count_its_messages_twice() -> None:
    from aiokafka.structs import ConsumerRecord, TopicPartition
    from chorus_events.consumer import ConsumerConfig, ConsumerRunner, _Fetched, _Run
    from chorus_events.envelope import PoisonMessage

    runner = ConsumerRunner(
        bootstrap="127.0.0.1:1",
        pool=None,  # type: ignore[arg-type]  # never touched: no message is applied
        handler=None,  # type: ignore[arg-type]
        service="unit",
        config=ConsumerConfig(group="g", specs=[], dead_letter_policy=lambda: DeadLetterPolicy(3)),
    )
    tp = TopicPartition("t", 0)

    def record(offset: int) -> ConsumerRecord:
        return ConsumerRecord("t", 0, offset, 0, 0, b"k", b"v", None, 1, 1, [])

    poison = record(7)
    bad_batch = _Fetched(
        [poison], [_Run(tp, 7, 7, 1)], [], [(poison, PoisonMessage("bad-json", "x"))]
    )
    for _ in range(10):  # the same poison message redelivered by ten retries
        runner._count_for_policy(bad_batch)
        runner._policy.check()
    assert runner._policy._consecutive == 1
    good = [record(offset) for offset in (8, 9, 10)]
    good_batch = _Fetched(good, [_Run(tp, 8, 10, 3)], [], [])
    for _ in range(3):  # a good batch retried (database down) counts once too
        runner._count_for_policy(good_batch)
    assert list(runner._policy._recent) == [True, False, False, False]


@pytest.mark.parametrize(
    "runs",  # (poison messages, then good messages), repeated
    [[(3, 3), (0, 7), (3, 0)], [(1, 40), (3, 2)], [(3, 60), (0, 5), (0, 30)], [(2, 9)] * 4],
)
def test_recording_good_messages_in_bulk_equals_one_by_one(runs: list[tuple[int, int]]) -> None:
    # The runner records an all-good batch with one call; the brake must not notice.
    one_by_one = DeadLetterPolicy(max_consecutive=4, max_ratio=0.3, window=50, min_samples=10)
    bulk = DeadLetterPolicy(max_consecutive=4, max_ratio=0.3, window=50, min_samples=10)
    for poison, good in runs:
        for policy in (one_by_one, bulk):
            for _ in range(poison):
                policy.record(True)
        for _ in range(good):
            one_by_one.record(False)
        bulk.record_good(good)
        assert list(bulk._recent) == list(one_by_one._recent)
        assert bulk._poison_in_window == one_by_one._poison_in_window == sum(one_by_one._recent)
        assert bulk._consecutive == one_by_one._consecutive
