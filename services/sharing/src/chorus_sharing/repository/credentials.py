"""Advocates' grants for network connectors (only used when a connector is enabled)."""

from __future__ import annotations

import asyncpg
from chorus_events.contracts.base import Network
from pydantic import SecretStr

from chorus_sharing.connectors import MemberCredentials


class PgCredentialStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def credentials(
        self, tenant_id: str, advocate_id: str, network: Network
    ) -> MemberCredentials | None:
        row = await self.pool.fetchrow(
            "SELECT member_id, access_token FROM network_credentials "
            "WHERE tenant_id = $1 AND advocate_id = $2 AND network = $3",
            tenant_id,
            advocate_id,
            network.value,
        )
        if row is None:
            return None
        return MemberCredentials(row["member_id"], SecretStr(row["access_token"]))

    async def save(
        self, tenant_id: str, advocate_id: str, network: Network, grant: MemberCredentials
    ) -> None:
        await self.pool.execute(
            "INSERT INTO network_credentials (tenant_id, advocate_id, network, member_id, "
            "access_token) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (tenant_id, advocate_id, network) DO UPDATE SET "
            "member_id = EXCLUDED.member_id, access_token = EXCLUDED.access_token, "
            "updated_at = clock_timestamp()",
            tenant_id,
            advocate_id,
            network.value,
            grant.member_id,
            grant.access_token.get_secret_value(),
        )

    async def delete(self, tenant_id: str, advocate_id: str, network: Network) -> bool:
        status = await self.pool.execute(
            "DELETE FROM network_credentials "
            "WHERE tenant_id = $1 AND advocate_id = $2 AND network = $3",
            tenant_id,
            advocate_id,
            network.value,
        )
        return bool(status != "DELETE 0")
