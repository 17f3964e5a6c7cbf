"""The running service's object graph, built when the lifespan starts (composition).

A `Worker` started first (so stopped last): the routes and the other workers find
the use cases here, on the live pool and Redis client.
"""

from __future__ import annotations

from chorus_platform.app import ServiceContext

from chorus_rewards.contests import ContestService
from chorus_rewards.leaderboards import Leaderboards, close_leaderboards, open_leaderboards
from chorus_rewards.raffles import RaffleService
from chorus_rewards.rebuild import rebuild_tenant
from chorus_rewards.redemption import RedemptionService
from chorus_rewards.settings import RewardsSettings
from chorus_rewards.tenants import SettingsCache, TenantAdmin

EXTRAS_KEY = "rewards"


class RewardsRuntime:
    tenants: TenantAdmin
    leaderboards: Leaderboards
    redemptions: RedemptionService
    contests: ContestService
    raffles: RaffleService

    def __init__(self, ctx: ServiceContext, settings: RewardsSettings) -> None:
        self.ctx = ctx
        self.settings = settings

    async def start(self) -> None:
        pool, redis = self.ctx.pool, self.ctx.redis
        cache = SettingsCache(pool)
        self.tenants = TenantAdmin(pool, cache, lambda t: rebuild_tenant(pool, redis, t))
        self.leaderboards = open_leaderboards(redis, cache)
        self.redemptions = RedemptionService(pool)
        self.contests = ContestService(pool)
        self.raffles = RaffleService(pool)
        self.ctx.extras[EXTRAS_KEY] = self

    async def stop(self) -> None:
        self.ctx.extras.pop(EXTRAS_KEY, None)
        await close_leaderboards(self.leaderboards)
