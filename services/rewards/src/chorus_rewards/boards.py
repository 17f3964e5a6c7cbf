"""What a leaderboard is (metric, scope, period bucket) and its Redis key.

Every key of a tenant starts with `chorus:rewards:{<tenant>}:`. The braces are
literal: they are a Redis Cluster hash tag, so all of one tenant's keys live in
one slot and multi-key commands (the rebuild's atomic swap) work on a cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from chorus_rewards.periods import Period, bucket_label


class Metric(StrEnum):
    POINTS = "points"
    ENGAGEMENT = "engagement"
    """Valid clicks + reactions + comments + reshares."""
    REACH = "reach"
    """Valid impressions."""


METRICS: tuple[Metric, ...] = (Metric.POINTS, Metric.ENGAGEMENT, Metric.REACH)
"""In the order of the standings arrays (`standings.slot`)."""


class ScopeKind(StrEnum):
    TENANT = "tenant"
    TEAM = "team"
    HASHTAG = "hashtag"


def normalize_hashtag(tag: str) -> str:
    """Campaign hashtags compare case-insensitively: #ChorusLaunch is #choruslaunch."""
    tag = tag.casefold()
    return tag if tag.startswith("#") else f"#{tag}"


def scope_key(kind: ScopeKind, scope_id: str | None = None) -> str:
    if kind is ScopeKind.TENANT:
        return "tenant"
    if not scope_id:
        raise ValueError(f"scope {kind.value} needs an id")
    if kind is ScopeKind.HASHTAG:
        return f"tag:{normalize_hashtag(scope_id)}"
    return f"team:{scope_id}"


def ranks_metric(scope: str, metric_index: int) -> bool:
    """Whether a board exists for this scope and metric: tenant and hashtag scopes rank all
    three (engagement and reach serve campaign contests and top contributors); team
    boards rank points only."""
    return metric_index == 0 or not scope.startswith("team:")


def scopes_of(team_ids: Sequence[str], hashtags: Sequence[str]) -> list[str]:
    """Scope keys an entry counts in: the tenant, each team, each (normalised) hashtag."""
    keys = ["tenant"]
    keys += [f"team:{t}" for t in dict.fromkeys(team_ids)]
    keys += [f"tag:{h}" for h in dict.fromkeys(normalize_hashtag(h) for h in hashtags)]
    return keys


def tenant_prefix(tenant_id: str) -> str:
    return f"chorus:rewards:{{{tenant_id}}}:"


def changes_channel(tenant_id: str) -> str:
    """Pub/sub channel of the tenant's leaderboard change notices (streamed by the gateway)."""
    return f"{tenant_prefix(tenant_id)}leaderboard-changes"


@dataclass(frozen=True)
class Board:
    tenant_id: str
    metric: Metric
    scope: str
    period: Period
    bucket: int | None

    @property
    def key(self) -> str:
        return board_key(self.tenant_id, self.metric, self.scope, self.period, self.bucket)


def board_key(
    tenant_id: str, metric: Metric, scope: str, period: Period, bucket: int | None
) -> str:
    label = bucket_label(period, bucket)
    return f"{tenant_prefix(tenant_id)}lb:{metric.value}:{scope}:{label}"


def boards_pattern(tenant_id: str) -> str:
    """SCAN pattern matching every leaderboard key of the tenant (ids have no glob chars)."""
    return f"{tenant_prefix(tenant_id)}lb:*"
