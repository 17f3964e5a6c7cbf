"""Network connectors: posting through a network's API, where the network allows it.

Share intents are the baseline (the advocate posts with their own session);
a connector posts on the advocate's behalf with a token they granted. Each
network is an adapter behind `NetworkConnector`; all are off by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chorus_events.contracts.base import Network
from pydantic import SecretStr


@dataclass(frozen=True)
class NetworkPost:
    """What to publish: the final text and the tracked link (never the bare destination)."""

    text: str
    link_url: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class MemberCredentials:
    """The advocate's grant on one network. SecretStr keeps the token out of reprs and logs."""

    member_id: str
    access_token: SecretStr


class NetworkConnector(Protocol):
    network: Network

    async def publish(self, post: NetworkPost, credentials: MemberCredentials) -> str:
        """Publish `post` as the member; return the network's id of the new post.

        Raises `ConnectorFailed` when the network refuses or cannot be reached.
        """
        ...


class CredentialStore(Protocol):
    async def credentials(
        self, tenant_id: str, advocate_id: str, network: Network
    ) -> MemberCredentials | None: ...
