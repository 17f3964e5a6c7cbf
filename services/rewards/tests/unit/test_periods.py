"""Period buckets in the tenant's zone, across midnight, week starts and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chorus_rewards.periods import (
    Period,
    bucket_end,
    bucket_for_date,
    bucket_label,
    bucket_start,
    bucket_tuple,
    buckets_of,
    zone,
)

BERLIN = zone("Europe/Berlin")
SANTIAGO = zone("America/Santiago")
TOKYO = zone("Asia/Tokyo")


def test_the_local_day_decides_not_the_utc_day() -> None:
    late_utc = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # Sunday in UTC
    assert date.fromordinal(buckets_of(late_utc, zone("UTC")).day) == date(2026, 3, 1)
    tokyo = buckets_of(late_utc, TOKYO)  # already Monday 08:30 in Tokyo
    assert date.fromordinal(tokyo.day) == date(2026, 3, 2)
    assert date.fromordinal(tokyo.week) == date(2026, 3, 2), "weeks start on Monday"
    assert bucket_label(Period.MONTH, tokyo.month) == "m2026-03"


def test_new_year_in_one_zone_is_still_december_in_another() -> None:
    when = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert bucket_label(Period.MONTH, buckets_of(when, BERLIN).month) == "m2026-01"
    assert bucket_label(Period.MONTH, buckets_of(when, zone("UTC")).month) == "m2025-12"
    week = buckets_of(when, BERLIN).week  # Thursday 1 Jan 2026 -> week of Monday 29 Dec
    assert bucket_label(Period.WEEK, week) == "w2025-12-29"


def test_spring_forward_day_has_23_hours_and_fall_back_25() -> None:
    spring = bucket_for_date(Period.DAY, date(2026, 3, 29))
    fall = bucket_for_date(Period.DAY, date(2026, 10, 25))
    length = bucket_end(Period.DAY, spring, BERLIN) - bucket_start(Period.DAY, spring, BERLIN)
    assert length.total_seconds() == 23 * 3600
    length = bucket_end(Period.DAY, fall, BERLIN) - bucket_start(Period.DAY, fall, BERLIN)
    assert length.total_seconds() == 25 * 3600


def test_an_event_just_after_a_dst_change_lands_in_the_right_day() -> None:
    # 2026-03-29 00:30 UTC is 01:30 CET; 01:30 UTC is 03:30 CEST: both on the 29th.
    for hour in (0, 1):
        when = datetime(2026, 3, 29, hour, 30, tzinfo=UTC)
        assert date.fromordinal(buckets_of(when, BERLIN).day) == date(2026, 3, 29)
    assert date.fromordinal(buckets_of(datetime(2026, 3, 28, 22, 59, tzinfo=UTC), BERLIN).day) == (
        date(2026, 3, 28)
    )


def test_a_day_whose_midnight_does_not_exist_starts_at_the_jump() -> None:
    # Chile moves clocks from 00:00 to 01:00 on 2026-09-06: the day starts at 04:00 UTC.
    day = bucket_for_date(Period.DAY, date(2026, 9, 6))
    assert bucket_start(Period.DAY, day, SANTIAGO) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    just_before = datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC)
    assert date.fromordinal(buckets_of(just_before, SANTIAGO).day) == date(2026, 9, 5)


def test_month_buckets_round_trip_through_their_first_day() -> None:
    december = bucket_for_date(Period.MONTH, date(2025, 12, 17))
    assert bucket_start(Period.MONTH, december, zone("UTC")) == datetime(2025, 12, 1, tzinfo=UTC)
    assert bucket_end(Period.MONTH, december, zone("UTC")) == datetime(2026, 1, 1, tzinfo=UTC)


def test_the_consumers_bucket_tuple_is_the_buckets_of_an_instant() -> None:
    start = datetime(2025, 12, 27, 21, 30, tzinfo=UTC)
    for zone_ in (BERLIN, SANTIAGO, TOKYO):
        for hours in range(0, 24 * 12, 5):
            when = start + timedelta(hours=hours)
            assert bucket_tuple(when, zone_) == buckets_of(when, zone_).as_tuple()
