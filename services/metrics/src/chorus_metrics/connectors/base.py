"""The one interface every analytics connector implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chorus_events.contracts import EngagementReported, Network


@dataclass(frozen=True)
class TrackedPost:
    """A share whose post the network knows by `post_ref` (e.g. an URN)."""

    tenant_id: str
    share_id: str
    post_ref: str


class ConnectorError(Exception):
    """The network refused or failed; the poller logs it and tries again next round."""


class AnalyticsConnector(Protocol):
    network: Network
    source: str
    """The `source` of the observations, e.g. "linkedin-api"."""

    async def fetch(
        self, posts: Sequence[TrackedPost], observed_at: datetime
    ) -> list[EngagementReported]:
        """Running totals (cumulative observations) of each post's engagement now."""
        ...
