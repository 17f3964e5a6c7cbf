"""KPI use cases: run the queries, shape rows, label every figure, state the method."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from chorus_events.contracts import Measurement

from chorus_metrics.fraud.rules import Reason
from chorus_metrics.kpis import repository as repo
from chorus_metrics.kpis.query import KpiQuery, next_start
from chorus_metrics.kpis.schemas import KpiReport
from chorus_metrics.text.sentiment import METHOD as SENTIMENT_METHOD

M, R, E = Measurement.MEASURED, Measurement.REPORTED, Measurement.ESTIMATED
REJECTION_REASONS = (Reason.BOT, Reason.SELF_CLICK, Reason.BURST, Reason.DUPLICATE)


def _report(
    kpi: str,
    q: KpiQuery,
    labels: dict[str, list[Measurement]],
    method: str,
    rows: list[dict[str, Any]],
    *,
    keys: Sequence[str] = ("bucket",),
) -> KpiReport:
    return KpiReport(
        kpi=kpi,
        time_zone=q.time_zone,
        bucket=q.bucket,
        filters=q.filters(),
        columns=[*keys, *labels],
        measurement=labels,
        method=method,
        rows=rows,
    )


def _bucket(value: date | None) -> str | None:
    return value.isoformat() if value else None


async def top_contributors(
    conn: asyncpg.Connection, q: KpiQuery, *, by_team: bool, order: str, limit: int
) -> KpiReport:
    rows = await repo.top_contributors(conn, q, by_team=by_team, order=order, limit=limit)
    labels = {
        "shares": [M],
        "clicks": [M],
        "reactions": [R],
        "comments": [R],
        "reshares": [R],
        "engagement": [M, R],
    }
    return _report(
        "top-contributors",
        q,
        labels,
        f"{'Teams' if by_team else 'Advocates'} ranked by {order} (ties by id), top {limit} per "
        "bucket. A share falls in the bucket of its posted_at and brings the engagement it "
        "earned to date: engagement = valid clicks (measured) + reactions + comments + reshares "
        "(reported). A share counts for each of its teams.",
        [
            {"bucket": _bucket(r["bucket"]), "contributor": r["contributor"]}
            | {k: int(r[k]) for k in labels}
            for r in rows
        ],
        keys=("bucket", "contributor"),
    )


async def reach(conn: asyncpg.Connection, q: KpiQuery) -> KpiReport:
    rows = await repo.reach(conn, q)
    labels = {
        "organic_reach": [R, E],
        "measured_impressions": [R],
        "estimated_reach": [E],
        "shares": [M],
        "shares_with_impressions": [M],
        "shares_estimated": [M],
        "shares_without_data": [M],
    }
    out = []
    for r in rows:
        row: dict[str, Any] = {"bucket": _bucket(r["bucket"])}
        row["organic_reach"] = int(r["measured_impressions"]) + int(r["estimated_reach"])
        row |= {k: int(r[k]) for k in labels if k != "organic_reach"}
        out.append(row)
    return _report(
        "reach",
        q,
        labels,
        "organic_reach = measured_impressions + estimated_reach. measured_impressions: "
        "impressions networks reported for the shares that have them (method: reported). "
        "estimated_reach: for every other share, the followers of its advocate on its network "
        "(PUT /v1/metrics/audiences), i.e. potential reach, each follower counted once per "
        "share (method: estimated). shares_without_data have neither and add nothing.",
        out,
    )


async def engagement_per_network(conn: asyncpg.Connection, q: KpiQuery) -> KpiReport:
    kinds = ("clicks", "reactions", "comments", "reshares", "impressions")
    table: dict[tuple[date | None, str], dict[str, int]] = defaultdict(dict.fromkeys(kinds, 0).copy)
    if repo.rolled_up(q):
        cells = await repo.engagement_cells(conn, q, clicks_only=False)
        for (bucket, network, kind, outcome), n in cells.items():
            if outcome == "" and kind in kinds:
                table[(bucket, network)][kind] += n
    else:
        for r in await repo.engagement_per_network(conn, q):
            cell = table[(r["bucket"], r["network"])]
            if "kind" in r:
                cell[r["kind"]] += int(r["n"])
            else:
                cell["clicks"] += int(r["clicks"])
    rows = [
        {"bucket": _bucket(b), "network": n} | counts
        for (b, n), counts in sorted(table.items(), key=lambda kv: (kv[0][0] or date.min, kv[0][1]))
    ]
    labels = {"clicks": [M], "reactions": [R], "comments": [R], "reshares": [R], "impressions": [R]}
    return _report(
        "engagement-per-network",
        q,
        labels,
        "Valid engagement by the network of its share, in the bucket of the engagement's time: "
        "tracked-link clicks after fraud filtering (measured) and what networks reported "
        "(reported; running totals contribute their increments).",
        rows,
        keys=("bucket", "network"),
    )


async def traffic(conn: asyncpg.Connection, q: KpiQuery) -> KpiReport:
    table: dict[date | None, dict[str, int]] = {}
    columns = ["valid_clicks", "unique_visitors"] + [
        f"rejected_{r.value}" for r in REJECTION_REASONS
    ]
    if repo.rolled_up(q):
        counts = [
            (bucket, outcome, n)
            for (bucket, _, _, outcome), n in (
                await repo.engagement_cells(conn, q, clicks_only=True)
            ).items()
        ]
        visitors = await repo.unique_visitors(conn, q)
    else:
        found = await repo.traffic(conn, q)
        counts = [(r["bucket"], r["reason"], int(r["n"])) for r in found]
        visitors = {r["bucket"]: int(r["visitors"]) for r in found if r["reason"] == ""}
    for bucket, outcome, n in counts:
        cell = table.setdefault(bucket, dict.fromkeys(columns, 0))
        if outcome == "":
            cell["valid_clicks"] += n
            cell["unique_visitors"] = visitors.get(bucket, 0)
        elif f"rejected_{outcome}" in cell:
            cell[f"rejected_{outcome}"] += n
    rows = [
        {"bucket": _bucket(b)} | c
        for b, c in sorted(table.items(), key=lambda kv: kv[0] or date.min)
    ]
    return _report(
        "traffic",
        q,
        {column: [M] for column in columns},
        "Visits tracked links sent to the company's site, in the bucket of the click: "
        "valid_clicks passed every fraud rule; unique_visitors counts distinct visitor hashes "
        "among them within the bucket; rejected_* are the clicks each rule rejected "
        "(GET /v1/metrics/fraud-rules explains the rules).",
        rows,
    )


async def sentiment(conn: asyncpg.Connection, q: KpiQuery) -> KpiReport:
    labels = {
        "comments": [R],
        "average_score": [E],
        "positive": [E],
        "neutral": [E],
        "negative": [E],
        "unscored": [E],
    }
    rows = []
    for r in await repo.sentiment(conn, q):
        score = r["score"]
        rows.append(
            {
                "bucket": _bucket(r["bucket"]),
                "comments": int(r["comments"]),
                "average_score": round(float(score), 4) if score is not None else None,
            }
            | {k: int(r[k]) for k in ("positive", "neutral", "negative", "unscored")}
        )
    return _report(
        "sentiment",
        q,
        labels,
        f"Comments with text that networks reported, in the bucket of the comment. Method: "
        f"{SENTIMENT_METHOD}. average_score is the mean VADER compound score (-1..1) of scored "
        "comments; positive >= 0.05, negative <= -0.05, neutral between; comments in other "
        "languages are 'unscored' and not in the average.",
        rows,
    )


async def hashtag_mentions(conn: asyncpg.Connection, q: KpiQuery) -> KpiReport:
    table: dict[tuple[date | None, str], dict[str, int]] = defaultdict(
        lambda: {"mentions": 0, "caption_mentions": 0, "comment_mentions": 0}
    )
    for r in await repo.hashtag_mentions(conn, q):
        cell = table[(r["bucket"], r["tag"])]
        cell["caption_mentions" if r["place"] == "captions" else "comment_mentions"] += int(r["n"])
        cell["mentions"] += int(r["n"])
    rows = [
        {"bucket": _bucket(b), "hashtag": tag} | c
        for (b, tag), c in sorted(
            table.items(), key=lambda kv: (kv[0][0] or date.min, -kv[1]["mentions"], kv[0][1])
        )
    ]
    return _report(
        "hashtag-mentions",
        q,
        {"mentions": [M, R], "caption_mentions": [M], "comment_mentions": [R]},
        "Hashtags (case-insensitive) in advocates' captions (measured: the posts Chorus saw "
        "shared, bucket of posted_at) and in reported comments (reported, bucket of the "
        "comment). A text mentioning a tag twice counts once.",
        rows,
        keys=("bucket", "hashtag"),
    )


async def adoption(conn: asyncpg.Connection, q: KpiQuery) -> KpiReport:
    enrolled = await repo.enrolled(conn, q.tenant_id)
    rows = []
    for r in await repo.active_advocates(conn, q):
        active = int(r["advocates"])
        rate = round(active / enrolled, 6) if enrolled else None
        rows.append(
            {
                "bucket": _bucket(r["bucket"]),
                "adoption_rate": rate,
                "active_advocates": active,
                "enrolled_advocates": enrolled,
            }
        )
    return _report(
        "adoption",
        q,
        {"adoption_rate": [M, R], "active_advocates": [M], "enrolled_advocates": [R]},
        "adoption_rate = active_advocates / enrolled_advocates. active_advocates: distinct "
        "advocates with at least one share posted in the bucket (measured). "
        "enrolled_advocates: as set with PUT /v1/metrics/enrolment (reported by the tenant "
        "until the directory feeds it); null rate when unknown.",
        rows,
    )


async def share_rate(conn: asyncpg.Connection, q: KpiQuery) -> KpiReport:
    shared: dict[date | None, set[str]] = defaultdict(set)
    for r in await repo.shared_content(conn, q):
        shared[r["bucket"]].add(r["content_id"])
    items = await repo.content_availability(conn, q)
    rows = []
    for bucket in sorted(shared, key=lambda b: b or date.min):
        start, end = _bounds(q, bucket)
        available = {
            i["content_id"]
            for i in items
            if (end is None or i["available_from"] < end)
            and (start is None or i["until"] is None or i["until"] > start)
        }
        count = len(shared[bucket] & available)
        rows.append(
            {
                "bucket": _bucket(bucket),
                "share_rate": round(count / len(available), 6) if available else None,
                "items_shared": count,
                "items_available": len(available),
            }
        )
    return _report(
        "share-rate",
        q,
        {"share_rate": [M], "items_shared": [M], "items_available": [M]},
        "share_rate = items_shared / items_available. items_available: approved content "
        "shareable at some time in the bucket (from content.approved until retired or "
        "expired); items_shared: those of them shared at least once in the bucket (with the "
        "share filters applied).",
        rows,
    )


def _bounds(q: KpiQuery, bucket: date | None) -> tuple[datetime | None, datetime | None]:
    if bucket is None:
        return q.start, q.end
    zone = ZoneInfo(q.time_zone)
    start = datetime.combine(bucket, time.min, zone)
    return start, datetime.combine(next_start(bucket, q.bucket), time.min, zone)
