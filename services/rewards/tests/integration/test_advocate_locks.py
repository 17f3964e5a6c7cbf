"""The consumer's advocate locks against the real Postgres: a second batch touching an
advocate waits for the first to commit, then reads what it committed."""

from __future__ import annotations

import asyncio

from chorus_rewards.repository import ledger as repo

from .conftest import RewardsApp


async def test_a_second_batch_waits_for_the_first_and_sees_its_account_changes(
    rewards: RewardsApp, tenant: str
) -> None:
    pool = rewards.runtime.ctx.pool
    async with pool.acquire() as setup:
        await repo.lock_advocates(setup, [(tenant, "ann")])  # the account exists: the usual case
    async with pool.acquire() as first, pool.acquire() as second:
        tx1 = first.transaction()
        await tx1.start()
        try:
            locked = await repo.lock_advocates(first, [(tenant, "ann"), (tenant, "bob")])
            account = locked[(tenant, "ann")]
            account.shares, account.balance_delta = 3, 30
            await repo.write_batch(first, accounts=[account])

            async def second_batch() -> repo.AccountRow:
                async with second.transaction():
                    found = await repo.lock_advocates(second, [(tenant, "ann"), (tenant, "cy")])
                    return found[(tenant, "ann")]

            waiting = asyncio.create_task(second_batch())
            await asyncio.sleep(0.3)
            assert not waiting.done()  # blocked on ann's row lock
        finally:
            await tx1.commit()
        seen = await asyncio.wait_for(waiting, 5)
    assert seen.shares == 3  # the committed value, not the one before the wait
    balance = await pool.fetchval(
        "SELECT balance FROM accounts WHERE tenant_id = $1 AND advocate_id = 'ann'", tenant
    )
    assert balance == 30
