"""Posting a share through a network connector (API posting, where allowed and enabled)."""

from __future__ import annotations

from chorus_sharing.connectors import MemberCredentials, NetworkConnector, NetworkPost
from chorus_sharing.domain import Share


async def publish_through(
    connector: NetworkConnector, share: Share, grant: MemberCredentials
) -> str:
    """Publish `share`'s final text with its *tracked* link; return the network's post id.

    Called inside the share's transaction: if the network refuses, nothing is
    recorded. A crash after the network accepted but before the commit leaves a
    post Chorus does not know about (no API offers an idempotency key to close
    that gap); the advocate sees it on their profile and can share again.
    """
    post = NetworkPost(text=share.final_text, link_url=share.link.url, title=share.content_title)
    return await connector.publish(post, grant)
