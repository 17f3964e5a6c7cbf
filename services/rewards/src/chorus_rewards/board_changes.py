"""The Redis writes one batch (or a rebuild) produces: absolute scores per board member."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from chorus_rewards.boards import METRICS, Metric, board_key, changes_channel, tenant_prefix
from chorus_rewards.periods import PERIODS, Period
from chorus_rewards.scoring import TIE_BITS, TIE_MAX, VALUE_LIMIT, encode_score, reach_base
from chorus_rewards.standings import SLOTS, bucket_start_ms, expire_at

NOTICE_MAX_ADVOCATES = 500
_METRICS = len(METRICS)


@lru_cache(maxsize=65_536)
def _target(
    tenant_id: str, scope: str, slot: int, bucket: int | None, tz: ZoneInfo
) -> tuple[str, int | None, int | None]:
    """(key, bucket start ms, expiry) of a cell's board: a few thousand distinct per tenant,
    reused by every advocate, so formatting them once matters on the consumer's hot path."""
    period, metric = PERIODS[slot // len(METRICS)], METRICS[slot % len(METRICS)]
    key = board_key(tenant_id, metric, scope, period, bucket)
    return key, bucket_start_ms(period, bucket, tz), expire_at(period, bucket, tz)


@lru_cache(maxsize=16_384)
def _period_targets(
    tenant_id: str, scope: str, period: int, bucket: int | None, tz: ZoneInfo
) -> tuple[tuple[str, ...], int | None, int, int, int | None]:
    """(board key per metric, bucket start ms, reach base ms, reach unit ms, expiry) of one
    period bucket of a scope: `set_row` looks this up once per period, not per cell."""
    keys = tuple(_target(tenant_id, scope, period * _METRICS + m, bucket, tz)[0] for m in _M)
    _, start_ms, expires = _target(tenant_id, scope, period * _METRICS, bucket, tz)
    base, unit = reach_base(start_ms)
    return keys, start_ms, base, unit, expires


_M = range(_METRICS)

_Period = tuple[list[dict[str, int] | None] | None, int, int, int | None]

GROUPS_OF: tuple[tuple[tuple[int, tuple[int, ...]], ...], ...] = tuple(
    tuple(
        (p, tuple(m for m in _M if mask >> (p * _METRICS + m) & 1))
        for p in range(len(PERIODS))
        if mask >> (p * _METRICS) & ((1 << _METRICS) - 1)
    )
    for mask in range(1 << SLOTS)
)
"""The slots of a slot mask grouped by period: ((period index, metric indexes), ...)."""


@dataclass
class BoardChanges:
    scores: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """tenant -> board key -> advocate -> score."""
    expiry: dict[str, int] = field(default_factory=dict)
    """board key -> unix time of EXPIREAT (period boards only)."""
    now: float = field(default_factory=time.time)
    """Cells of boards already past their retention are dropped, as the rebuild does."""
    _periods: dict[tuple[str, str, int, int | None], _Period] = field(
        default_factory=dict, repr=False, compare=False
    )
    """(tenant, scope, period index, bucket) -> what `set_row` needs of it (`_period`)."""

    def set_slot(
        self,
        tenant_id: str,
        tz: ZoneInfo,
        scope: str,
        slot: int,
        bucket: int | None,
        advocate_id: str,
        value: int,
        reached_ms: int,
    ) -> None:
        """Record the absolute value of one board cell (slot = period index * 3 + metric)."""
        key, start_ms, expires = _target(tenant_id, scope, slot, bucket, tz)
        if expires is not None and expires <= self.now:
            return
        boards = self.scores.get(tenant_id)
        if boards is None:
            boards = self.scores[tenant_id] = {}
        members = boards.get(key)
        if members is None:
            members = boards[key] = {}
            if expires is not None:
                self.expiry[key] = expires
        members[advocate_id] = encode_score(value, reached_ms, start_ms)

    def set_row(
        self,
        tenant_id: str,
        tz: ZoneInfo,
        scope: str,
        advocate_id: str,
        slots: int,
        buckets: Sequence[int | None],
        values: Sequence[int],
        reached: Sequence[int],
    ) -> None:
        """`set_slot` for the slots in the mask `slots` (bit s = slot s) of one standings
        row, in its current buckets: the consumer's hot path, with each period bucket's
        boards and score terms looked up once per batch (`_period`), not per cell."""
        periods = self._periods
        for p, metrics in GROUPS_OF[slots]:
            bucket = buckets[p - 1] if p else None
            found = periods.get((tenant_id, scope, p, bucket))
            if found is None:
                found = self._period(tenant_id, tz, scope, p, bucket)
            boards, base, unit, start_ms = found
            if boards is None:
                continue  # past its retention
            for m in metrics:
                members = boards[m]
                if members is None:
                    members = self._board(tenant_id, tz, scope, p, bucket, m, boards)
                s = p * _METRICS + m
                # `encode_score` inlined for the common case (value and reach time in range).
                value, units = values[s], (reached[s] - base) // unit
                if 0 <= units <= TIE_MAX and -VALUE_LIMIT < value < VALUE_LIMIT:
                    members[advocate_id] = -((value << TIE_BITS) + (TIE_MAX - units))
                else:
                    members[advocate_id] = encode_score(value, reached[s], start_ms)

    def _period(
        self, tenant_id: str, tz: ZoneInfo, scope: str, p: int, bucket: int | None
    ) -> _Period:
        """The (member dicts per metric, created on first use; None when the bucket is past
        its retention), reach base and unit, bucket start ms) of one period bucket."""
        _, start_ms, base, unit, expires = _period_targets(tenant_id, scope, p, bucket, tz)
        live = expires is None or expires > self.now
        found: _Period = ([None] * _METRICS if live else None, base, unit, start_ms)
        self._periods[(tenant_id, scope, p, bucket)] = found
        return found

    def _board(
        self,
        tenant_id: str,
        tz: ZoneInfo,
        scope: str,
        p: int,
        bucket: int | None,
        m: int,
        boards: list[dict[str, int] | None],
    ) -> dict[str, int]:
        """The member dict of one board of this batch (shared with `set_slot`'s)."""
        keys, _, _, _, expires = _period_targets(tenant_id, scope, p, bucket, tz)
        tenant_boards = self.scores.get(tenant_id)
        if tenant_boards is None:
            tenant_boards = self.scores[tenant_id] = {}
        members = tenant_boards.get(keys[m])
        if members is None:
            members = tenant_boards[keys[m]] = {}
            if expires is not None:
                self.expiry[keys[m]] = expires
        boards[m] = members
        return members

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
        s = PERIODS.index(period) * len(METRICS) + METRICS.index(metric)
        self.set_slot(tenant_id, tz, scope, s, bucket, advocate_id, value, reached_ms)

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
