"""Use cases of the tenant's sharing policy (admins): caps, duplicate rule, default link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chorus_platform.identity import Identity

from chorus_sharing.domain import SharingPolicy
from chorus_sharing.ports import ShareStore


class PolicyService:
    def __init__(
        self, store: ShareStore, *, default_daily_cap: int, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.default_daily_cap = default_daily_cap
        self.clock = clock

    async def current(self, tenant_id: str) -> SharingPolicy:
        found = await self.store.policy(tenant_id)
        return found or SharingPolicy(tenant_id=tenant_id, daily_cap=self.default_daily_cap)

    async def replace(self, caller: Identity, policy: SharingPolicy) -> SharingPolicy:
        saved = replace(
            policy,
            tenant_id=caller.tenant_id,
            updated_at=self.clock(),
            updated_by=caller.principal_id,
        )
        await self.store.save_policy(saved)
        return saved
