"""Dependencies shared by the routes: the running service's use cases and the caller's rights."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from chorus_platform.identity import CurrentIdentity, Identity, PrincipalKind, Role
from chorus_platform.problems import Forbidden
from fastapi import Depends, Request

if TYPE_CHECKING:
    from chorus_rewards.runtime import RewardsRuntime

ADMIN_SCOPE = "rewards:admin"
"""API keys (HR/BI systems) act as program admins with this scope."""


# Dependencies are coroutines on purpose: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per request that cost the leaderboard routes ~7% of their CPU.


async def runtime(request: Request) -> RewardsRuntime:
    found: RewardsRuntime = request.app.state.ctx.extras["rewards"]
    return found


def is_admin(identity: Identity) -> bool:
    if identity.kind is PrincipalKind.API_KEY:
        return ADMIN_SCOPE in identity.scopes
    return Role.ADMIN in identity.roles


async def admin(identity: CurrentIdentity) -> Identity:
    if not is_admin(identity):
        raise Forbidden("requires the admin role (or an API key with rewards:admin)")
    return identity


def may_see_advocate(identity: Identity, advocate_id: str) -> None:
    """People see their own balance, history and redemptions; admins see everyone's."""
    if identity.principal_id != advocate_id and not is_admin(identity):
        raise Forbidden("you may only see your own rewards")


Runtime = Annotated["RewardsRuntime", Depends(runtime)]
Admin = Annotated[Identity, Depends(admin)]
