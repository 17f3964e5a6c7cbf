"""Tie-breaking in the score: value, then earliest reach time, then advocate id."""

from __future__ import annotations

from datetime import UTC, datetime

from chorus_rewards.scoring import TIE_MAX, decode_value, encode_score, reach_units

START = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp() * 1000)


def _rank(entries: list[tuple[str, int, int]], bucket_start: int | None) -> list[str]:
    """Order members as Redis does: ascending score, then ascending member bytes."""
    scored = [(encode_score(v, at, bucket_start), adv) for adv, v, at in entries]
    return [adv for _, adv in sorted(scored)]


def test_higher_value_first_then_earlier_reach_then_smaller_id() -> None:
    entries = [
        ("carol", 10, START + 5_000),
        ("bob", 10, START + 1_000),
        ("alice", 10, START + 5_000),
        ("dave", 11, START + 9_000),
        ("erin", -3, START),
    ]
    assert _rank(entries, START) == ["dave", "bob", "alice", "carol", "erin"]


def test_values_decode_exactly_including_negative_and_large_ones() -> None:
    for value in (0, 1, -1, 7, -250, 123_456_789, -(2**29)):
        for at in (START, START + 86_400_000 * 31):
            assert decode_value(encode_score(value, at, START)) == value


def test_all_time_boards_break_ties_by_the_hour() -> None:
    a = reach_units(START + 59 * 60_000, None)
    b = reach_units(START + 61 * 60_000, None)
    assert b == a + 1
    assert 0 <= a <= TIE_MAX


def test_reach_times_within_a_second_tie_and_fall_back_to_the_id() -> None:
    entries = [("zed", 5, START + 1_100), ("amy", 5, START + 1_900)]
    assert _rank(entries, START) == ["amy", "zed"]
