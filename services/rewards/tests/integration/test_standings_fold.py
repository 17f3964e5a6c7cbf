"""The consumer's standings fold inside one batch (against the real Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chorus_rewards.accrual import EntryKind, LedgerEntry, TenantContext
from chorus_rewards.board_sync import update_standings
from chorus_rewards.boards import Metric, board_key
from chorus_rewards.periods import Period, buckets_of, zone
from chorus_rewards.rules import PointsRules, RuleBook, RulesVersion
from chorus_rewards.scoring import decode_value

from .conftest import RewardsApp


def _entry(tenant: str, advocate: str, at: datetime, points: int) -> LedgerEntry:
    return LedgerEntry(tenant, advocate, EntryKind.SHARE, points, at, team_ids=("t1",))


async def test_a_row_rolling_to_a_new_day_mid_batch_still_writes_the_old_days_cells(
    rewards: RewardsApp, tenant: str
) -> None:
    tz = zone("UTC")
    book = RuleBook([RulesVersion(version=1, effective_from=None, rules=PointsRules())])
    contexts = {tenant: TenantContext(tenant, tz, book)}
    day1 = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    day2 = day1 + timedelta(days=1)
    entries = [
        _entry(tenant, "amy", day1, 10),
        _entry(tenant, "amy", day1 + timedelta(hours=1), 5),
        _entry(tenant, "amy", day2, 7),
        _entry(tenant, "bob", day2, 3),
    ]
    async with rewards.runtime.ctx.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            changes = await update_standings(conn, contexts, entries)
        finally:
            await tx.rollback()  # nothing of this test is kept
    boards = changes.scores[tenant]

    def value(scope: str, period: Period, at: datetime | None, who: str) -> int:
        bucket = None
        if at is not None:
            b = buckets_of(at, tz)
            bucket = {Period.DAY: b.day, Period.WEEK: b.week, Period.MONTH: b.month}[period]
        return decode_value(boards[board_key(tenant, Metric.POINTS, scope, period, bucket)][who])

    for scope in ("tenant", "team:t1"):
        assert value(scope, Period.DAY, day1, "amy") == 15  # the day the row rolled past
        assert value(scope, Period.DAY, day2, "amy") == 7
        assert value(scope, Period.ALL, None, "amy") == 22
        assert value(scope, Period.DAY, day2, "bob") == 3
    # Team boards rank points only.
    assert [k for k in boards if ":team:" in k and ":lb:points:" not in k] == []
