"""The platform as five real service processes (killable, restartable), and a simulated
program driven through its gateway."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from chorus_devstack.fleet import Engines, Fleet
from chorus_simulator.gateway import Gateway, Headers
from chorus_simulator.run import TenantAccess
from chorus_simulator.tenant import bootstrap_tenant

# Faster cadences than production so a small program settles in seconds.
FAST = {
    "content": {"CHORUS_CONTENT_SCHEDULER_POLL_INTERVAL": "0.2"},
    "sharing": {"CHORUS_SHARING_SCHEDULER_INTERVAL": "0.2"},
    "metrics": {"CHORUS_METRICS_FLUSH_MIN_INTERVAL": "0.2"},
    "rewards": {"CHORUS_REWARDS_CONSUMER_BATCH_TIMEOUT_MS": "20"},
    "gateway": {"CHORUS_GATEWAY_PRINCIPAL_CACHE_SECONDS": "0.5"},
}


@pytest.fixture(scope="module")
async def fleet(
    postgres_dsn: str,
    kafka_bootstrap: str,
    redis_url: str,
    internal_token_secret: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Fleet]:
    engines = Engines(kafka_bootstrap, postgres_dsn, redis_url, internal_token_secret)
    extra = {**FAST, "*": {"CHORUS_SHARING_CLICK_SALT": secrets.token_hex(16)}}
    platform = Fleet(engines, tmp_path_factory.mktemp("fleet"), extra_env=extra)
    try:
        await platform.start_all()
        yield platform
    finally:
        await platform.stop_all()


@dataclass
class Program:
    fleet: Fleet
    gateway: Gateway
    tenant: TenantAccess

    async def admin(self) -> Headers:
        t = self.tenant
        return await self.gateway.login(t.tenant_id, t.admin_email, t.admin_password)


@pytest.fixture
async def program(fleet: Fleet) -> AsyncIterator[Program]:
    """A fresh tenant on the running fleet and a client for its gateway."""
    tenant = bootstrap_tenant("Journey Co", env=fleet.env_for("gateway"))
    gateway = Gateway(fleet.gateway)
    try:
        yield Program(fleet, gateway, tenant)
    finally:
        await gateway.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from .faults import RESULTS, result_table

    if RESULTS:
        terminalreporter.section("fault injection: events lost, doubled, recovery")
        terminalreporter.write_line(result_table())
