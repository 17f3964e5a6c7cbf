"""`PUT/DELETE /v1/sharing/connections/{network}`: an advocate's grant for API posting.

Only networks with an enabled connector accept a grant. The token is stored for
the connector and never returned or logged.
"""

from __future__ import annotations

from chorus_events.contracts.base import Network
from fastapi import APIRouter, status

from chorus_sharing.api.deps import Person, Runtime
from chorus_sharing.connectors import MemberCredentials
from chorus_sharing.errors import ConnectorUnavailable
from chorus_sharing.schemas import ConnectionIn, ConnectionOut

router = APIRouter(prefix="/v1/sharing/connections", tags=["connections"])


@router.put("/{network}", response_model=ConnectionOut)
async def connect(
    network: Network, body: ConnectionIn, caller: Person, runtime: Runtime
) -> ConnectionOut:
    if network not in runtime.connectors:
        raise ConnectorUnavailable(f"posting to {network.value} through its API is not enabled")
    grant = MemberCredentials(body.member_id, body.access_token)
    await runtime.credentials.save(caller.tenant_id, caller.principal_id, network, grant)
    return ConnectionOut(network=network, member_id=body.member_id, connected=True)


@router.delete("/{network}", status_code=status.HTTP_204_NO_CONTENT)
async def disconnect(network: Network, caller: Person, runtime: Runtime) -> None:
    await runtime.credentials.delete(caller.tenant_id, caller.principal_id, network)
