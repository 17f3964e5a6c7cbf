"""Cap usage rows (one per advocate and local day, every action in it) against the real
Postgres: a batch that touches one action of a day keeps the others of that day."""

from __future__ import annotations

from chorus_rewards.repository import ledger as repo

from .conftest import RewardsApp


async def test_writing_one_action_of_a_day_keeps_the_usage_of_the_others(
    rewards: RewardsApp, tenant: str
) -> None:
    day, other_day = 739_000, 739_001
    async with rewards.runtime.ctx.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            # Batch 1: a share and a click on `day`, a comment on `other_day`.
            first = {
                (tenant, "ann", "share", day): 10,
                (tenant, "ann", "click", day): 3,
                (tenant, "ann", "comment", other_day): 2,
            }
            await repo.write_batch(conn, caps=first)
            # Batch 2 asks for the clicks of `day` only, as an engagement event would...
            loaded = await repo.load_caps(conn, [(tenant, "ann", "click", day)])
            assert loaded == {(tenant, "ann", "share", day): 10, (tenant, "ann", "click", day): 3}
            # ...and writes that whole day back with more clicks.
            await repo.write_batch(conn, caps=loaded | {(tenant, "ann", "click", day): 7})
            everything = await repo.load_caps(
                conn, [(tenant, "ann", "share", day), (tenant, "ann", "share", other_day)]
            )
        finally:
            await tx.rollback()  # nothing of this test is kept
    assert everything == {
        (tenant, "ann", "share", day): 10,
        (tenant, "ann", "click", day): 7,
        (tenant, "ann", "comment", other_day): 2,
    }
