"""Operator commands: `python -m chorus_rewards {rebuild,check,raffle-verify} ...`.

rebuild [--tenant T]   rebuild Redis rankings (and standings) from the ledger
check   [--tenant T]   compare Redis, standings and balances with the ledger;
                       exit 1 when anything drifted
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from chorus_platform.db import create_pool
from redis.asyncio import Redis

from chorus_rewards import raffle
from chorus_rewards.rebuild import check_tenant, rebuild_tenant
from chorus_rewards.repository.standings import tenants_with_activity
from chorus_rewards.settings import RewardsSettings


async def _ledger_command(command: str, tenant: str | None) -> int:
    settings = RewardsSettings()
    pool = await create_pool(settings.database_url, "rewards", min_size=1, max_size=2)
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        tenants = [tenant] if tenant else await tenants_with_activity(pool)
        drifted = 0
        for tenant_id in tenants:
            if command == "rebuild":
                boards = await rebuild_tenant(pool, redis, tenant_id)
                print(f"{tenant_id}: rebuilt {boards} board(s)")
                continue
            drift = await check_tenant(pool, redis, tenant_id)
            verdict = "OK" if not drift.problems else f"DRIFT ({len(drift.problems)})"
            print(f"{tenant_id}: {drift.boards_checked} board(s) checked: {verdict}")
            for problem in drift.problems[:50]:
                print(f"  - {problem}")
            drifted += bool(drift.problems)
        return 1 if drifted else 0
    finally:
        await redis.aclose()
        await pool.close()


def _raffle_verify(seed: str, entries_arg: str, winners: int, seed_sha256: str | None) -> int:
    text = Path(entries_arg[1:]).read_text() if entries_arg.startswith("@") else entries_arg
    entries = [(str(a), int(w)) for a, w in json.loads(text)]
    found = raffle.verify(seed, entries, winners, seed_sha256)
    body = {
        "algorithm": raffle.ALGORITHM,
        "winners": found.winners,
        "seed_matches_hash": found.seed_matches_hash,
        "entries_sha256": found.entries_sha256,
    }
    print(json.dumps(body, indent=2))
    return 1 if found.seed_matches_hash is False else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chorus_rewards")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("rebuild", "rebuild Redis rankings from the ledger"),
        ("check", "compare Redis rankings, standings and balances with the ledger"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--tenant", help="only this tenant (default: every tenant)")
    sub = commands.add_parser("raffle-verify", help="recompute raffle winners from seed + entries")
    sub.add_argument("--seed", required=True)
    sub.add_argument("--entries", required=True, help='JSON [["advocate", weight], ...] or @file')
    sub.add_argument("--winners", required=True, type=int)
    sub.add_argument("--seed-sha256", help="the hash published when the raffle opened")
    args = parser.parse_args(argv)
    if args.command == "raffle-verify":
        return _raffle_verify(args.seed, args.entries, args.winners, args.seed_sha256)
    return asyncio.run(_ledger_command(args.command, args.tenant))


if __name__ == "__main__":
    sys.exit(main())
