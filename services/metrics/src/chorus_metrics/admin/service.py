"""Use cases of tenant administration (no HTTP; the transaction is the caller's)."""

from __future__ import annotations

import asyncpg

from chorus_metrics.admin import repository
from chorus_metrics.admin.schemas import (
    AudienceIn,
    FraudRulesView,
    PostRefIn,
    PostRefView,
    ProgramIn,
    ProgramView,
)
from chorus_metrics.fraud.rules import EXPLANATIONS, FraudRules
from chorus_metrics.ingest.post_refs import register_post_ref


async def fraud_rules(conn: asyncpg.Connection, tenant: str) -> FraudRulesView:
    row = await repository.get_rules(conn, tenant)
    if row is None:
        return FraudRulesView(rules=FraudRules(), explanations=EXPLANATIONS, is_default=True)
    return FraudRulesView(
        rules=FraudRules.model_validate(row["rules"]),
        explanations=EXPLANATIONS,
        is_default=False,
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


async def replace_fraud_rules(
    conn: asyncpg.Connection, tenant: str, rules: FraudRules, by: str
) -> FraudRulesView:
    """New rules apply to engagement judged from now on; past verdicts stand."""
    row = await repository.put_rules(conn, tenant, rules.model_dump(mode="json"), by)
    return FraudRulesView(
        rules=FraudRules.model_validate(row["rules"]),
        explanations=EXPLANATIONS,
        is_default=False,
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


async def program(conn: asyncpg.Connection, tenant: str) -> ProgramView:
    row = await repository.get_program(conn, tenant)
    if row is None:
        return ProgramView(enrolled_advocates=0, time_zone=None, updated_at=None)
    return ProgramView(**dict(row))


async def replace_program(conn: asyncpg.Connection, tenant: str, body: ProgramIn) -> ProgramView:
    row = await repository.put_program(conn, tenant, body.enrolled_advocates, body.time_zone)
    return ProgramView(**dict(row))


async def replace_audiences(conn: asyncpg.Connection, tenant: str, items: list[AudienceIn]) -> int:
    latest = {(a.advocate_id, a.network): a for a in items}  # last one wins within a request
    await repository.put_audiences(conn, tenant, list(latest.values()))
    return len(latest)


async def add_fingerprints(
    conn: asyncpg.Connection, tenant: str, advocate_id: str, hashes: list[str]
) -> int:
    await repository.add_fingerprints(conn, tenant, advocate_id, hashes)
    return len(set(hashes))


async def set_post_ref(
    conn: asyncpg.Connection, tenant: str, share_id: str, body: PostRefIn
) -> PostRefView:
    matched = await register_post_ref(conn, tenant, share_id, body.network.value, body.post_ref)
    return PostRefView(
        share_id=share_id, network=body.network, post_ref=body.post_ref, matched=matched
    )
