"""Composition root of the rewards service: `uvicorn chorus_rewards.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import (
    ServiceContext,
    ServiceSpec,
    Worker,
    WorkerFactory,
    create_service_app,
)
from chorus_platform.migrate import MigrationSet
from fastapi import FastAPI

from chorus_rewards.api import ROUTERS
from chorus_rewards.api.fastpath import install_leaderboard_fast_path
from chorus_rewards.board_sync import BoardWriter
from chorus_rewards.consumers import LedgerConsumer
from chorus_rewards.contests import ContestService
from chorus_rewards.ledger_worker import ledger_consumer
from chorus_rewards.raffles import RaffleService
from chorus_rewards.runtime import RewardsRuntime
from chorus_rewards.scheduler import ContestScheduler
from chorus_rewards.settings import RewardsSettings

SERVICE = "rewards"
REWARDS_MIGRATIONS = MigrationSet("chorus_rewards", "chorus_rewards")


def build_spec(settings: RewardsSettings | None = None) -> ServiceSpec:
    settings = settings or RewardsSettings()
    # Order matters: the runtime starts first (the others use it) and stops last.
    workers: list[WorkerFactory] = [lambda ctx: RewardsRuntime(ctx, settings)]
    if settings.outbox_relay_enabled:
        workers.append(outbox_relay())
    if settings.consumers_enabled:
        workers.append(_board_writer)  # before the consumer: built first, stopped after it
        workers += [
            ledger_consumer(
                settings, lambda ctx: LedgerConsumer(ctx.extras["board_writer"]), purges=i == 0
            )
            for i in range(settings.consumer_instances)
        ]
    if settings.scheduler_enabled:
        workers.append(lambda ctx: _scheduler(ctx, settings))
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Points ledger, live leaderboards, contests, raffles and badges.",
        migrations=[EVENTS_MIGRATIONS, REWARDS_MIGRATIONS],
        routers=ROUTERS,
        workers=workers,
    )


class _ClosesBoardWriter:
    """Closes the consumer's board writer (its own Redis connection) at shutdown."""

    def __init__(self, writer: BoardWriter) -> None:
        self.writer = writer

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.writer.close()


def _board_writer(ctx: ServiceContext) -> Worker:
    writer = ctx.extras["board_writer"] = BoardWriter(ctx.redis)
    return _ClosesBoardWriter(writer)


def _scheduler(ctx: ServiceContext, settings: RewardsSettings) -> Worker:
    # Workers are all built before any starts: use the pool, not the runtime.
    return ContestScheduler(
        ContestService(ctx.pool),
        RaffleService(ctx.pool),
        interval=settings.scheduler_interval,
        grace=settings.contest_freeze_grace,
    )


def create_app(settings: RewardsSettings | None = None) -> FastAPI:
    """The service's app: the platform's kit plus the leaderboard reads' fast path."""
    settings = settings or RewardsSettings()
    return _assemble(build_spec(settings), settings)


def _assemble(service_spec: ServiceSpec, settings: RewardsSettings) -> FastAPI:
    app = create_service_app(service_spec)
    install_leaderboard_fast_path(app, SERVICE, trace_ratio=settings.leaderboard_trace_ratio)
    return app


_settings = RewardsSettings()
spec = build_spec(_settings)  # `chorus_platform.migrate` reads its migrations
app = _assemble(spec, _settings)
