"""A throwaway platform for a benchmark: a fresh database on the local stack (started
if needed) and the five services as processes (`Fleet`), removed afterwards."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path

from chorus_devstack.fleet import Engines, Fleet
from chorus_devstack.pg_admin import create_database, drop_database, with_database
from chorus_devstack.resolve import resolve_infra


@contextlib.asynccontextmanager
async def bench_fleet(
    label: str, profiled: Iterable[str] = (), gateway_env: Mapping[str, str] | None = None
) -> AsyncIterator[Fleet]:
    infra = resolve_infra(dict(os.environ))
    endpoints = infra.endpoints
    name = f"chorus_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin_url = endpoints.database_url
    await create_database(admin_url, name)
    work = Path(tempfile.mkdtemp(prefix=f"chorus-{label}-bench-"))
    secret = uuid.uuid4().hex
    engines = Engines(
        endpoints.kafka_bootstrap, with_database(admin_url, name), endpoints.redis_url, secret
    )
    fleet = Fleet(
        engines,
        work,
        extra_env={"*": {"CHORUS_SHARING_CLICK_SALT": secret}, "gateway": dict(gateway_env or {})},
        profiled=frozenset(profiled),
    )
    try:
        print(f"{label}: load average {os.getloadavg()[0]:.1f}; starting the fleet in {work}")
        await fleet.start_all()
        yield fleet
    finally:
        await fleet.stop_all()
        await drop_database(admin_url, name)
        infra.close()
