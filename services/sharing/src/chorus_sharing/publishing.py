"""Posting a share through a network connector (API posting, where allowed and enabled)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from chorus_events.contracts.base import Network

from chorus_sharing.connectors import (
    CredentialStore,
    MemberCredentials,
    NetworkConnector,
    NetworkPost,
)
from chorus_sharing.domain import Share


class ApiPosting:
    """The enabled connectors and the advocates' grants for them."""

    def __init__(
        self,
        connectors: Mapping[Network, NetworkConnector] | None = None,
        credentials: CredentialStore | None = None,
    ) -> None:
        self.connectors = dict(connectors or {})
        self.credentials = credentials

    async def grant(
        self, tenant_id: str, advocate_id: str, network: Network
    ) -> MemberCredentials | None:
        """The advocate's grant, if that network's connector is enabled and they gave one."""
        if network not in self.connectors or self.credentials is None:
            return None
        return await self.credentials.credentials(tenant_id, advocate_id, network)

    async def publish(self, share: Share, grant: MemberCredentials) -> Share:
        """Publish `share`'s final text with its *tracked* link; return it with the post id.

        Called inside the share's transaction: if the network refuses, nothing is
        recorded. A crash after the network accepted but before the commit leaves a
        post Chorus does not know about (no API offers an idempotency key to close
        that gap); the advocate sees it on their profile and can share again.
        """
        post = NetworkPost(
            text=share.final_text, link_url=share.link.url, title=share.content_title
        )
        post_id = await self.connectors[share.network].publish(post, grant)
        return replace(share, external_post_id=post_id)
