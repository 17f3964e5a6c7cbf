"""HTTP routes of the rewards service, served under their gateway paths (`/v1/rewards/...`)."""

from __future__ import annotations

from fastapi import APIRouter

from chorus_rewards.api import accounts, catalogue, config, contests, leaderboards

ROUTERS: list[APIRouter] = [
    config.router,
    accounts.router,
    leaderboards.router,
    catalogue.router,
    contests.router,
]
