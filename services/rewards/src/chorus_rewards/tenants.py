"""Tenant configuration use cases: points rules versions and settings (time zone, anonymity)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from chorus_platform.problems import Conflict, UnprocessableEntity

from chorus_rewards.accrual import TenantContext
from chorus_rewards.periods import UnknownTimeZone, zone
from chorus_rewards.repository import rules as repo
from chorus_rewards.rules import PointsRules, RuleBook, RulesVersion


@dataclass(frozen=True)
class TenantSettings:
    time_zone: str = repo.DEFAULT_TIME_ZONE
    anonymous_leaderboards: bool = False


_parsed: dict[tuple[str, int], RulesVersion] = {}
"""Versions are immutable, so parsed ones are cached for the life of the process."""


def _cached_version(row: Any) -> RulesVersion:
    key = (row["tenant_id"], row["version"])
    found = _parsed.get(key)
    if found is None:
        found = RulesVersion(
            version=row["version"],
            effective_from=row["effective_from"],
            rules=PointsRules.model_validate(row["rules"]),
        )
        _parsed[key] = found
    return found


async def load_contexts(db: Any, tenant_ids: Sequence[str]) -> dict[str, TenantContext]:
    """Rule books and zones of `tenant_ids` (materialising default rules where missing).

    One statement per batch in the usual case: the versions' rules are fetched and parsed
    only the first time this process sees a version."""
    rows = await repo.context_rows(db, tenant_ids)
    if {r["tenant_id"] for r in rows} != set(tenant_ids):
        await repo.ensure_default_rules(db, tenant_ids)
        rows = await repo.context_rows(db, tenant_ids)
    unknown = sorted(
        {r["tenant_id"] for r in rows if (r["tenant_id"], r["version"]) not in _parsed}
    )
    if unknown:
        for row in await repo.rule_rows(db, unknown):
            _cached_version(row)
    by_tenant: dict[str, list[RulesVersion]] = {}
    zones: dict[str, str] = {}
    for row in rows:
        tenant_id = row["tenant_id"]
        by_tenant.setdefault(tenant_id, []).append(_parsed[(tenant_id, row["version"])])
        zones[tenant_id] = row["time_zone"] or repo.DEFAULT_TIME_ZONE
    return {
        tenant_id: TenantContext(tenant_id, zone(zones[tenant_id]), RuleBook(by_tenant[tenant_id]))
        for tenant_id in tenant_ids
    }


class SettingsCache:
    """Tenant settings for hot read paths, reloaded after `ttl` seconds.

    Leaderboard reads need the zone and the anonymity flag on every request; a
    change made through the admin API is seen by this process at once (it
    invalidates), by other replicas within `ttl`.
    """

    def __init__(self, pool: asyncpg.Pool, ttl: float = 5.0) -> None:
        self.pool = pool
        self.ttl = ttl
        self._cache: dict[str, tuple[float, TenantSettings]] = {}

    async def get(self, tenant_id: str) -> TenantSettings:
        now = time.monotonic()
        hit = self._cache.get(tenant_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = (await repo.settings_rows(self.pool, [tenant_id])).get(tenant_id)
        found = (
            TenantSettings(row["time_zone"], row["anonymous_leaderboards"])
            if row is not None
            else TenantSettings()
        )
        self._cache[tenant_id] = (now + self.ttl, found)
        return found

    def invalidate(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)


ZoneChanged = Callable[[str], Awaitable[Any]]


class TenantAdmin:
    def __init__(
        self,
        pool: asyncpg.Pool,
        cache: SettingsCache | None = None,
        on_zone_change: ZoneChanged | None = None,
    ) -> None:
        self.pool = pool
        self.cache = cache
        self.on_zone_change = on_zone_change

    async def current_rules(self, tenant_id: str) -> RulesVersion:
        return (await repo.versions(self.pool, tenant_id))[-1]

    async def rule_versions(self, tenant_id: str) -> list[RulesVersion]:
        return await repo.versions(self.pool, tenant_id)

    async def put_rules(
        self,
        tenant_id: str,
        rules: PointsRules,
        effective_from: datetime | None,
        created_by: str,
        now: datetime | None = None,
    ) -> RulesVersion:
        """Append a version in force from `effective_from` (default: now; never in the past,
        which would change the value of events already in the ledger)."""
        now = now or datetime.now(UTC)
        start = effective_from or now
        if start < now:
            raise UnprocessableEntity("effective_from must not be in the past")
        async with self.pool.acquire() as conn, conn.transaction():
            latest = (await repo.versions(conn, tenant_id))[-1]
            if latest.effective_from is not None and start < latest.effective_from:
                raise UnprocessableEntity(
                    "effective_from must not precede the latest version's",
                    latest_effective_from=latest.effective_from.isoformat(),
                )
            added = await repo.add_version(conn, tenant_id, rules, start, created_by)
        if added is None:
            raise Conflict("the rules were changed concurrently; read them and retry")
        return added

    async def settings(self, tenant_id: str) -> TenantSettings:
        row = (await repo.settings_rows(self.pool, [tenant_id])).get(tenant_id)
        if row is None:
            return TenantSettings()
        return TenantSettings(row["time_zone"], row["anonymous_leaderboards"])

    async def put_settings(self, tenant_id: str, wanted: TenantSettings) -> TenantSettings:
        try:
            zone(wanted.time_zone)
        except UnknownTimeZone as exc:
            raise UnprocessableEntity(str(exc), field="time_zone") from exc
        before = await self.settings(tenant_id)
        await repo.save_settings(
            self.pool, tenant_id, wanted.time_zone, wanted.anonymous_leaderboards
        )
        if self.cache is not None:
            self.cache.invalidate(tenant_id)
        # Buckets are local days/weeks/months: a new zone regroups the whole ledger.
        if wanted.time_zone != before.time_zone and self.on_zone_change is not None:
            await self.on_zone_change(tenant_id)
        return wanted
