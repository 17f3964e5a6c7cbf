"""Composition root of the rewards service: `uvicorn chorus_rewards.app:app`."""

from __future__ import annotations

from chorus_events.workers import EVENTS_MIGRATIONS, outbox_relay
from chorus_platform.app import ServiceSpec, create_service_app

from chorus_rewards.settings import RewardsSettings

SERVICE = "rewards"


def build_spec(settings: RewardsSettings | None = None) -> ServiceSpec:
    settings = settings or RewardsSettings()
    return ServiceSpec(
        name=SERVICE,
        settings=settings,
        description="Points ledger, live leaderboards, contests, raffles and badges.",
        migrations=[EVENTS_MIGRATIONS],
        workers=[outbox_relay()] if settings.outbox_relay_enabled else [],
    )


spec = build_spec()
app = create_service_app(spec)
