"""Dependencies of the gateway's own routes: the runtime, and the caller the guard let in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from chorus_platform.problems import Unauthorized
from fastapi import Depends, Request

from chorus_gateway.auth.principal import Principal

if TYPE_CHECKING:
    from chorus_gateway.runtime import GatewayRuntime


async def runtime(request: Request) -> GatewayRuntime:
    found: GatewayRuntime = request.app.state.ctx.extras["gateway"]
    return found


async def principal(request: Request) -> Principal:
    # The guard authenticated and authorised the request by the route policy.
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise Unauthorized("authentication required")
    return found


Runtime = Annotated["GatewayRuntime", Depends(runtime)]
Caller = Annotated[Principal, Depends(principal)]
