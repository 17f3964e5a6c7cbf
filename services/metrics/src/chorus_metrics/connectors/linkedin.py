"""LinkedIn member post analytics (`memberCreatorPostAnalytics`, Rest.li 2.0).

The documented contract this implements:

    GET {base}/rest/memberCreatorPostAnalytics?q=entity
        &entity=(share:urn%3Ali%3Ashare%3A123)   (or (ugcPost:urn%3Ali%3AugcPost%3A123))
        &queryType=IMPRESSION|MEMBERS_REACHED|RESHARE|REACTION|COMMENT
        &aggregation=TOTAL
    Authorization: Bearer <member token with r_member_postAnalytics>
    LinkedIn-Version: YYYYMM
    X-Restli-Protocol-Version: 2.0.0
    -> {"elements": [{"count": 1234, "metricType": {...: "IMPRESSION"}, ...}]}

One call per post and metric. Counts are the post's lifetime totals, so every
observation is sent as `cumulative`; ingestion turns totals into increments.
Off by default (`CHORUS_METRICS_LINKEDIN_ANALYTICS_ENABLED`): it needs each
member's consent and token, and LinkedIn restricts who may call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from urllib.parse import quote

import httpx
from chorus_events.contracts import EngagementKind, EngagementReported, Network

from chorus_metrics.connectors.base import ConnectorError, TrackedPost

METRICS: Final[dict[str, EngagementKind]] = {
    "IMPRESSION": EngagementKind.IMPRESSIONS,
    "REACTION": EngagementKind.REACTIONS,
    "COMMENT": EngagementKind.COMMENTS,
    "RESHARE": EngagementKind.RESHARES,
}
PATH: Final = "/rest/memberCreatorPostAnalytics"


def entity_param(post_ref: str) -> str:
    """`urn:li:share:1` -> `(share:urn%3Ali%3Ashare%3A1)` (Rest.li 2.0 entity encoding)."""
    parts = post_ref.split(":")
    if len(parts) != 4 or parts[:2] != ["urn", "li"] or parts[2] not in {"share", "ugcPost"}:
        raise ValueError(f"not a LinkedIn share or ugcPost URN: {post_ref!r}")
    return f"({parts[2]}:{quote(post_ref, safe='')})"


class LinkedInMemberAnalytics:
    network = Network.LINKEDIN
    source = "linkedin-api"

    def __init__(self, client: httpx.AsyncClient, *, token: str, version: str) -> None:
        """`client` carries the base URL and timeouts (a test passes one bound to a fake)."""
        self.client = client
        self.token = token
        self.version = version

    async def fetch(
        self, posts: Sequence[TrackedPost], observed_at: datetime
    ) -> list[EngagementReported]:
        out = []
        for post in posts:
            for metric, kind in METRICS.items():
                count = await self._total(post.post_ref, metric)
                out.append(
                    EngagementReported(
                        tenant_id=post.tenant_id,
                        source=self.source,
                        source_event_id=f"{post.post_ref}:{metric}:{observed_at.isoformat()}",
                        share_id=post.share_id,
                        network=self.network,
                        kind=kind,
                        count=count,
                        cumulative=True,
                        occurred_at=observed_at,
                    )
                )
        return out

    async def _total(self, post_ref: str, metric: str) -> int:
        # Built by hand: Rest.li wants the parentheses and colons of `entity` unescaped.
        query = f"q=entity&entity={entity_param(post_ref)}&queryType={metric}&aggregation=TOTAL"
        try:
            response = await self.client.get(
                f"{PATH}?{query}",
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "LinkedIn-Version": self.version,
                    "X-Restli-Protocol-Version": "2.0.0",
                },
            )
        except httpx.HTTPError as exc:
            raise ConnectorError(f"LinkedIn unreachable: {exc}") from exc
        if response.status_code != 200:
            raise ConnectorError(f"LinkedIn answered {response.status_code} for {metric}")
        elements = response.json().get("elements", [])
        return sum(int(e.get("count", 0)) for e in elements)
