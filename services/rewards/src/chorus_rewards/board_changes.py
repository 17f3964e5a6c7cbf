"""The Redis writes one batch (or a rebuild) produces: absolute scores per board member."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chorus_rewards.boards import Metric, board_key, changes_channel, tenant_prefix
from chorus_rewards.periods import Period
from chorus_rewards.scoring import encode_score
from chorus_rewards.standings import bucket_start_ms, expire_at

NOTICE_MAX_ADVOCATES = 500


@dataclass
class BoardChanges:
    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """tenant -> board key -> advocate -> score."""
    expiry: dict[str, int] = field(default_factory=dict)
    """board key -> unix time of EXPIREAT (period boards only)."""

    def set_cell(
        self,
        tenant_id: str,
        tz: ZoneInfo,
        scope: str,
        period: Period,
        bucket: int | None,
        metric: Metric,
        advocate_id: str,
        value: int,
        reached_ms: int,
    ) -> None:
        key = board_key(tenant_id, metric, scope, period, bucket)
        score = encode_score(value, reached_ms, bucket_start_ms(period, bucket, tz))
        self.scores.setdefault(tenant_id, {}).setdefault(key, {})[advocate_id] = score
        expires = expire_at(period, bucket, tz)
        if expires is not None:
            self.expiry[key] = expires

    def __bool__(self) -> bool:
        return bool(self.scores)

    def members(self) -> int:
        return sum(len(m) for boards in self.scores.values() for m in boards.values())

    def notice(self, tenant_id: str) -> tuple[str, str]:
        """(channel, message) announcing this tenant's changes to subscribers (the gateway).

        The message names the boards (key suffix `<metric>:<scope>:<bucket>`) and the
        advocates whose standing changed, so a client knows whether to re-read.
        """
        boards = self.scores.get(tenant_id, {})
        prefix = tenant_prefix(tenant_id) + "lb:"
        advocates = sorted({a for members in boards.values() for a in members})
        body: dict[str, Any] = {
            "tenant_id": tenant_id,
            "boards": sorted(k.removeprefix(prefix) for k in boards),
            "advocates": advocates[:NOTICE_MAX_ADVOCATES],
            "advocates_truncated": len(advocates) > NOTICE_MAX_ADVOCATES,
            "at": datetime.now(UTC).isoformat(),
        }
        return changes_channel(tenant_id), json.dumps(body, separators=(",", ":"))
