"""LinkedIn member share through the Posts API (`POST /rest/posts`).

Contract (Microsoft Learn, "Posts API"): bearer token with `w_member_social`,
headers `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`; body
with `author` `urn:li:person:{id}`, `commentary`, `visibility` PUBLIC,
`distribution.feedDistribution` MAIN_FEED, `content.article.source` the URL,
`lifecycleState` PUBLISHED. 201 answers carry the post URN in `x-restli-id`.

`commentary` is in LinkedIn's "little" text format: the reserved characters
`\\ | { } @ [ ] ( ) < > # * _ ~` must be backslash-escaped or LinkedIn silently
truncates the post at the first one. A `#` that starts a hashtag stays as is so
hashtags remain clickable.
"""

from __future__ import annotations

import logging
import re

import httpx
from chorus_events.contracts.base import Network

from chorus_sharing.connectors import MemberCredentials, NetworkPost
from chorus_sharing.errors import ConnectorFailed

log = logging.getLogger(__name__)
POSTS_PATH = "/rest/posts"
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")


def escape_little_text(text: str) -> str:
    """Escape `text` for `commentary`, keeping hashtags (`#word`) verbatim."""
    out: list[str] = []
    position = 0
    for match in _HASHTAG.finditer(text):
        out.append(_RESERVED.sub(r"\\\1", text[position : match.start()]))
        out.append(match.group())
        position = match.end()
    out.append(_RESERVED.sub(r"\\\1", text[position:]))
    return "".join(out)


class LinkedInMemberConnector:
    network = Network.LINKEDIN

    def __init__(self, client: httpx.AsyncClient, *, version: str) -> None:
        self._client = client
        self._version = version

    def request_body(self, post: NetworkPost, member_id: str) -> dict[str, object]:
        article: dict[str, str] = {"source": post.link_url, "title": post.title}
        if post.description:
            article["description"] = post.description
        return {
            "author": f"urn:li:person:{member_id}",
            "commentary": escape_little_text(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": article},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    async def publish(self, post: NetworkPost, credentials: MemberCredentials) -> str:
        headers = {
            "Authorization": f"Bearer {credentials.access_token.get_secret_value()}",
            "LinkedIn-Version": self._version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        try:
            response = await self._client.post(
                POSTS_PATH, json=self.request_body(post, credentials.member_id), headers=headers
            )
        except httpx.HTTPError as exc:
            # The exception text may embed the request; log the type only (token safety).
            log.warning("linkedin unreachable: %s", type(exc).__name__)
            raise ConnectorFailed("LinkedIn could not be reached", network="linkedin") from None
        if response.status_code != 201:
            log.warning("linkedin refused the post: %s", response.status_code)
            raise ConnectorFailed(
                f"LinkedIn answered {response.status_code}",
                network="linkedin",
                network_status=response.status_code,
                reconnect=response.status_code == 401,
            )
        post_id: str | None = response.headers.get("x-restli-id")
        if not post_id:
            raise ConnectorFailed("LinkedIn did not return the post id", network="linkedin")
        return post_id


def linkedin_client(base_url: str, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=timeout)
