"""KPI query parameters and the SQL filter they become.

Period: `from`/`to` are calendar dates in the report's time zone, both
inclusive. Buckets (day, week = ISO week from Monday, month) are computed in
that zone too; only buckets with activity are returned. The zone is the
request's `tz`, else the tenant's program zone (`PUT /v1/metrics/enrolment`),
else the service default (until the gateway's directory provides it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo


class Bucket(StrEnum):
    NONE = "none"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class KpiQuery:
    tenant_id: str
    time_zone: str
    date_from: date | None = None
    date_to: date | None = None
    team: str | None = None
    advocate: str | None = None
    campaign: str | None = None
    network: str | None = None
    bucket: Bucket = Bucket.NONE

    @property
    def start(self) -> datetime | None:
        if self.date_from is None:
            return None
        return datetime.combine(self.date_from, time.min, ZoneInfo(self.time_zone))

    @property
    def end(self) -> datetime | None:
        """Exclusive: midnight after `date_to` in the zone."""
        if self.date_to is None:
            return None
        return datetime.combine(
            self.date_to + timedelta(days=1), time.min, ZoneInfo(self.time_zone)
        )

    def filters(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "team": self.team,
            "advocate": self.advocate,
            "campaign": self.campaign,
            "network": self.network,
        }


@dataclass
class Sql:
    """A WHERE clause built from constant fragments, with its values as bound parameters."""

    args: list[Any] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, clause: str) -> None:
        self.clauses.append(clause)

    @property
    def condition(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "true"


def share_filters(
    sql: Sql, q: KpiQuery, alias: str = "s", *, tenant: str | None = None, campaign: bool = True
) -> None:
    """Tenant, team, advocate, campaign and network filters on the shares table (or on
    `share_rollups`, which has the same columns but campaigns: `campaign=False`).
    `tenant`: the tenant's parameter when it is bound already."""
    sql.where(f"{alias}.tenant_id = {tenant or sql.bind(q.tenant_id)}")
    # `@>` rather than `= ANY(...)`: the same test, but one the GIN indexes can serve.
    if q.team:
        sql.where(f"{alias}.team_ids @> ARRAY[{sql.bind(q.team)}::text]")
    if q.advocate:
        sql.where(f"{alias}.advocate_id = {sql.bind(q.advocate)}")
    if q.campaign and campaign:
        sql.where(f"{alias}.campaign_hashtags @> ARRAY[{sql.bind(q.campaign)}::text]")
    if q.network:
        sql.where(f"{alias}.network = {sql.bind(q.network)}")


def period(sql: Sql, q: KpiQuery, column: str) -> None:
    if q.start is not None:
        sql.where(f"{column} >= {sql.bind(q.start)}")
    if q.end is not None:
        sql.where(f"{column} < {sql.bind(q.end)}")


def truncate(day: date, bucket: Bucket) -> date:
    """The first local day of the bucket `day` falls in (ISO weeks start on Monday)."""
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket is Bucket.MONTH:
        return day.replace(day=1)
    return day


def next_start(day: date, bucket: Bucket) -> date:
    """The first local day of the bucket after the one starting on `day`."""
    if bucket is Bucket.WEEK:
        return day + timedelta(days=7)
    if bucket is Bucket.MONTH:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def bucket_days(q: KpiQuery, first: datetime, last: datetime) -> list[date]:
    """Start days of every bucket from the one holding `first` to the one holding `last`."""
    zone = ZoneInfo(q.time_zone)
    day = truncate(first.astimezone(zone).date(), q.bucket)
    end = truncate(last.astimezone(zone).date(), q.bucket)
    days = [day]
    while day < end:
        day = next_start(day, q.bucket)
        days.append(day)
    return days


def bucket_expr(sql: Sql, q: KpiQuery, column: str, days: Sequence[date]) -> str:
    """SQL for the local date a timestamp's bucket starts on (NULL without buckets).

    The buckets' UTC start instants are computed here, in Python, with the zone's
    real rules (DST, half-hour offsets); SQL only finds each row's bucket with
    `width_bucket` over that sorted array, which is far cheaper per row than
    converting every timestamp to local time.
    """
    if q.bucket is Bucket.NONE or not days:
        return "NULL::date"
    zone = ZoneInfo(q.time_zone)
    starts = sql.bind([datetime.combine(day, time.min, zone) for day in days])
    labels = sql.bind(list(days))
    return f"({labels}::date[])[width_bucket({column}, {starts}::timestamptz[])]"
