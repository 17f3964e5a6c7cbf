"""Contests frozen from the ledger (once, auditable), verifiable raffles, badges."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from chorus_devstack.waiting import eventually
from chorus_events.contracts.base import Network
from chorus_rewards.boards import Metric
from chorus_rewards.contests import ContestService
from chorus_rewards.raffles import RaffleService
from chorus_rewards.scheduler import ContestScheduler

from .conftest import RewardsApp
from .streams import ShareCounter, produce, record, share_posted


async def _ledger_rows(rewards: RewardsApp, tenant: str, n: int) -> None:
    pool = rewards.runtime.ctx.pool

    async def enough() -> bool:
        found = await pool.fetchval("SELECT count(*) FROM ledger WHERE tenant_id = $1", tenant)
        return bool(found >= n)

    await eventually(enough, what=f"{n} ledger entries")


async def test_contest_results_are_frozen_from_the_ledger_and_auditable(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    now = datetime.now(UTC)
    at = now - timedelta(hours=1)
    events: list[Any] = []
    for advocate, clicks in (("ivy", 5), ("jon", 40), ("kim", 20)):
        share = share_posted(tenant, advocate, at, hashtags=("#Spring",))
        events += [share, ShareCounter(share).update(at + timedelta(minutes=5), clicks=clicks)]
    events.append(share_posted(tenant, "ivy", now - timedelta(days=2), hashtags=("#spring",)))
    events.append(share_posted(tenant, "ivy", at, hashtags=("#other",)))
    await produce(kafka_bootstrap, [record(rewards.settings.topic_prefix, e) for e in events])
    await _ledger_rows(rewards, tenant, len(events))

    c, admin = rewards.client, rewards.headers(tenant)
    body = {
        "name": "Spring push",
        "hashtag": "spring",
        "metric": "points",
        "starts_at": (now - timedelta(hours=3)).isoformat(),
        "ends_at": (now - timedelta(minutes=1)).isoformat(),
        "prizes": [{"rank": 1, "prize": "Headphones"}, {"rank": 2, "prize": "Mug"}],
    }
    created = await c.post("/v1/rewards/contests", json=body, headers=admin)
    assert created.status_code == 201, created.text
    contest_id = created.json()["id"]

    async def frozen() -> bool:
        got = await c.get(f"/v1/rewards/contests/{contest_id}", headers=admin)
        return bool(got.json()["state"] == "frozen")

    await eventually(frozen, what="the scheduler to freeze the contest")
    contest = (await c.get(f"/v1/rewards/contests/{contest_id}", headers=admin)).json()
    standings = contest["results"]["standings"]
    assert [(s["advocate_id"], s["value"]) for s in standings] == [
        ("jon", 50),
        ("kim", 30),
        ("ivy", 15),  # the share two days ago and the #other share are outside the contest
    ]
    assert [p["advocate_id"] for p in contest["results"]["prizes"]] == ["jon", "kim"]
    canonical = json.dumps(contest["results"], sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == contest["results_sha256"]

    # entries recorded after the freeze do not change the frozen results
    late = share_posted(tenant, "ivy", at, hashtags=("#Spring",))
    await produce(kafka_bootstrap, [record(rewards.settings.topic_prefix, late)])
    await _ledger_rows(rewards, tenant, len(events) + 1)
    audit = (await c.get(f"/v1/rewards/contests/{contest_id}/audit", headers=admin)).json()
    assert audit["matches"] is True
    live = (await c.get(f"/v1/rewards/contests/{contest_id}/standings", headers=admin)).json()
    assert [s["value"] for s in live] == [50, 30, 15]
    badges = (await c.get("/v1/rewards/accounts/kim/badges", headers=admin)).json()
    assert {b["badge"] for b in badges} >= {"top-10", "first-share"}


async def test_two_schedulers_freeze_each_contest_exactly_once(
    rewards: RewardsApp, tenant: str
) -> None:
    pool = rewards.runtime.ctx.pool
    contests = ContestService(pool)
    now = datetime.now(UTC)
    for i in range(6):  # they end in 10 minutes: not due for the app's own scheduler
        await contests.create(
            tenant, f"c{i}", "#race", Metric.POINTS, now - timedelta(hours=1),
            now + timedelta(minutes=10), [], "admin-1",
        )  # fmt: skip
    # These two freeze contests up to 20 minutes before their end, so only they compete.
    pair = [ContestScheduler(ContestService(pool), RaffleService(pool), 1, -1200) for _ in "ab"]
    counts = await asyncio.gather(*(s.run_once() for s in pair))
    assert sum(frozen for frozen, _ in counts) >= 6
    rows = await pool.fetch("SELECT state FROM contests WHERE tenant_id = $1", tenant)
    assert [r["state"] for r in rows] == ["frozen"] * 6


async def test_a_raffle_commits_to_its_seed_and_anyone_can_recompute_the_winners(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    c, admin = rewards.client, rewards.headers(tenant)
    now = datetime.now(UTC)
    body = {
        "name": "Launch raffle",
        "hashtag": "#Draw",
        "starts_at": (now - timedelta(hours=3)).isoformat(),
        "ends_at": (now + timedelta(seconds=4)).isoformat(),
        "winners": 2,
    }
    opened = await c.post("/v1/rewards/raffles", json=body, headers=admin)
    assert opened.status_code == 201, opened.text
    raffle = opened.json()
    assert raffle["seed"] is None and len(raffle["seed_sha256"]) == 64
    at = now - timedelta(hours=1)
    events = [share_posted(tenant, "amy", at, hashtags=("#draw",)) for _ in range(3)]
    events += [share_posted(tenant, "bob", at, hashtags=("#DRAW",))]
    events += [share_posted(tenant, "cal", at, hashtags=("#draw",), network=Network.FACEBOOK)]
    events += [share_posted(tenant, "dan", now - timedelta(hours=5), hashtags=("#draw",))]
    events += [share_posted(tenant, "eva", at, hashtags=("#other",))]
    events += [share_posted(tenant, "fox", at, hashtags=("#draw",))]
    await produce(kafka_bootstrap, [record(rewards.settings.topic_prefix, e) for e in events])
    await _ledger_rows(rewards, tenant, len(events))
    early = await c.post(f"/v1/rewards/raffles/{raffle['id']}/draw", headers=admin)
    assert early.status_code == 409, "no draw while the raffle is open"

    async def drawn() -> bool:
        got = await c.get(f"/v1/rewards/raffles/{raffle['id']}", headers=admin)
        return bool(got.json()["state"] == "drawn")

    await eventually(drawn, what="the scheduler to draw the raffle")
    result = (await c.get(f"/v1/rewards/raffles/{raffle['id']}", headers=admin)).json()
    seed = result["seed"]
    assert hashlib.sha256(seed.encode()).hexdigest() == raffle["seed_sha256"]
    assert result["entries"] == [["amy", 3], ["bob", 1], ["fox", 1]]
    assert result["winners"] == independent_draw(seed, result["entries"], 2)
    again = await c.post(f"/v1/rewards/raffles/{raffle['id']}/draw", headers=admin)
    assert again.json()["winners"] == result["winners"], "drawing again changes nothing"

    verify = {"seed": seed, "entries": result["entries"], "winners": 2}
    verify["seed_sha256"] = raffle["seed_sha256"]
    checked = (await c.post("/v1/rewards/raffles/verify", json=verify, headers=admin)).json()
    assert checked["winners"] == result["winners"] and checked["seed_matches_hash"] is True
    assert checked["entries_sha256"] == result["entries_sha256"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chorus_rewards", "raffle-verify", "--seed", seed,
        "--entries", json.dumps(result["entries"]), "--winners", "2",
        "--seed-sha256", raffle["seed_sha256"], stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert json.loads(out)["winners"] == result["winners"]


def independent_draw(seed: str, entries: list[list[Any]], winners: int) -> list[str]:
    """The documented algorithm, written again from the docstring of chorus_rewards.raffle."""
    pool = sorted((a, w) for a, w in entries if w > 0)
    out = []
    for k in range(min(winners, len(pool))):
        total = sum(w for _, w in pool)
        attempt = 0
        while True:
            x = int(hashlib.sha256(f"{seed}:{k}:{attempt}".encode()).hexdigest(), 16)
            if x < 2**256 - 2**256 % total:
                break
            attempt += 1
        r, running = x % total, 0
        for i, (a, w) in enumerate(pool):
            running += w
            if r < running:
                out.append(a)
                pool.pop(i)
                break
    return out


async def test_badges_are_granted_once_for_counts_and_weekly_streaks(
    rewards: RewardsApp, kafka_bootstrap: str, tenant: str
) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    weekly = [share_posted(tenant, "liz", now - timedelta(days=7 * w)) for w in (3, 2, 1)]
    burst = [share_posted(tenant, "liz", now) for _ in range(7)]
    facebook = [share_posted(tenant, "liz", now, network=Network.FACEBOOK) for _ in range(3)]
    stream = [*weekly, *burst, *facebook]
    prefix = rewards.settings.topic_prefix
    await produce(kafka_bootstrap, [record(prefix, e) for e in stream])
    await produce(kafka_bootstrap, [record(prefix, e) for e in stream])  # re-announced
    await _ledger_rows(rewards, tenant, len(stream))
    c = rewards.client
    account = (await c.get("/v1/rewards/accounts/liz", headers=rewards.headers(tenant))).json()
    assert (account["shares"], account["streak_weeks"]) == (10, 4)
    badges = (
        await c.get("/v1/rewards/accounts/liz/badges", headers=rewards.headers(tenant))
    ).json()
    assert sorted(b["badge"] for b in badges) == ["first-share", "shares-10", "streak-4-weeks"]
