"""Dependencies shared by the routes: the running service's use cases and the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from chorus_platform.identity import (
    IDENTITY_HEADER,
    CurrentIdentity,
    Identity,
    PrincipalKind,
    Role,
)
from chorus_platform.problems import Forbidden
from fastapi import Depends, Request

if TYPE_CHECKING:
    from chorus_sharing.runtime import SharingRuntime

# Systems (API keys) read the tenant's shares with this scope.
READ_SCOPE = "sharing:read"


# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in
# a worker thread, a hop that costs more than the redirect itself.
async def runtime(request: Request) -> SharingRuntime:
    found: SharingRuntime = request.app.state.ctx.extras["sharing"]
    return found


async def person(identity: CurrentIdentity) -> Identity:
    """Feeds and shares belong to people; an API key has neither."""
    if identity.kind is not PrincipalKind.PERSON:
        raise Forbidden("only people have a feed and share content")
    return identity


async def caller_token(request: Request) -> str:
    """The caller's identity token, forwarded verbatim to the content service."""
    return request.headers[IDENTITY_HEADER]


def sees_whole_tenant(identity: Identity) -> bool:
    if identity.kind is PrincipalKind.API_KEY:
        return READ_SCOPE in identity.scopes
    return Role.ADMIN in identity.roles


Runtime = Annotated["SharingRuntime", Depends(runtime)]
Person = Annotated[Identity, Depends(person)]
CallerToken = Annotated[str, Depends(caller_token)]
