"""Admin configuration: points rules (versioned) and tenant settings."""

from __future__ import annotations

from chorus_platform.identity import CurrentIdentity
from fastapi import APIRouter

from chorus_rewards.api.deps import Admin, Runtime
from chorus_rewards.schemas import PutRules, RulesOut, SettingsBody
from chorus_rewards.tenants import TenantSettings

router = APIRouter(prefix="/v1/rewards", tags=["rewards: configuration"])


@router.get("/rules", response_model=RulesOut)
async def get_rules(identity: CurrentIdentity, rt: Runtime) -> RulesOut:
    """The rules in force now (every member may read how points are earned)."""
    return RulesOut.of(await rt.tenants.current_rules(identity.tenant_id))


@router.get("/rules/versions", response_model=list[RulesOut])
async def rule_versions(identity: Admin, rt: Runtime) -> list[RulesOut]:
    return [RulesOut.of(v) for v in await rt.tenants.rule_versions(identity.tenant_id)]


@router.put("/rules", response_model=RulesOut)
async def put_rules(body: PutRules, identity: Admin, rt: Runtime) -> RulesOut:
    """Append a new version; ledger entries name the version that valued them."""
    added = await rt.tenants.put_rules(
        identity.tenant_id, body.rules, body.effective_from, identity.principal_id
    )
    return RulesOut.of(added)


@router.get("/settings", response_model=SettingsBody)
async def get_settings(identity: CurrentIdentity, rt: Runtime) -> SettingsBody:
    found = await rt.tenants.settings(identity.tenant_id)
    return SettingsBody(
        time_zone=found.time_zone, anonymous_leaderboards=found.anonymous_leaderboards
    )


@router.put("/settings", response_model=SettingsBody)
async def put_settings(body: SettingsBody, identity: Admin, rt: Runtime) -> SettingsBody:
    """A new time zone regroups periods, so the tenant's rankings are rebuilt before replying."""
    await rt.tenants.put_settings(
        identity.tenant_id, TenantSettings(body.time_zone, body.anonymous_leaderboards)
    )
    return body
