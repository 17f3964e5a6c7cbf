"""A generated KPI data set (>=10k shares, >=100k engagements) and its expected figures.

Rows are written with COPY straight into the metrics tables, as ingestion would
leave them (verdicts, applied counts, per-share totals). The expectations below
are computed from the same Python rows, never from SQL.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

NETWORKS = ("linkedin", "x", "facebook", "xing")
TAGS = ("#chorus2", "#launch", "#hiring", "#culture")
REASONS = ("bot", "duplicate", "self_click", "burst")
LABELS = ("positive", "neutral", "negative", "unscored")
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Share:
    share_id: str
    content_id: str
    advocate_id: str
    team_ids: list[str]
    network: str
    campaign: list[str]
    caption_tags: list[str]
    posted_at: datetime
    totals: Counter[str] = field(default_factory=Counter)
    impressions_reported: bool = False


@dataclass
class DataSet:
    tenant: str
    shares: list[Share]
    clicks: list[dict[str, Any]]
    reported: list[dict[str, Any]]
    audiences: dict[tuple[str, str], int]
    content: list[dict[str, Any]]
    enrolled: int

    @property
    def by_id(self) -> dict[str, Share]:
        return {s.share_id: s for s in self.shares}


def generate(
    tenant: str,
    *,
    shares: int = 10_000,
    clicks: int = 70_000,
    reported: int = 32_000,
    seed: int = 7,
) -> DataSet:
    rnd = random.Random(seed)
    advocates = [f"adv-{i}" for i in range(240)]
    team_of = {a: f"team-{i % 12}" for i, a in enumerate(advocates)}
    content = []
    for i in range(60):
        start = START + timedelta(days=rnd.randint(0, 70))
        until = start + timedelta(days=rnd.randint(5, 60)) if rnd.random() < 0.6 else None
        content.append(
            {
                "content_id": f"cnt-{i}",
                "available_from": start,
                "until": until,
                "campaign": [TAGS[i % 3]],
            }
        )
    out: list[Share] = []
    for i in range(shares):
        adv = rnd.choice(advocates[:200])  # 40 enrolled advocates never share
        item = rnd.choice(content)
        teams = [team_of[adv]] + ([f"team-{rnd.randint(0, 11)}"] if rnd.random() < 0.2 else [])
        out.append(
            Share(
                share_id=f"shr-{i}",
                content_id=item["content_id"],
                advocate_id=adv,
                team_ids=sorted(set(teams)),
                network=rnd.choice(NETWORKS),
                campaign=list(item["campaign"]),
                caption_tags=rnd.sample(TAGS, rnd.randint(0, 2)),
                posted_at=START + timedelta(seconds=rnd.randint(0, 90 * 86400)),
            )
        )
    click_rows = []
    for _ in range(clicks):
        share = rnd.choice(out)
        valid = rnd.random() < 0.8
        reason = None if valid else rnd.choice(REASONS)
        click_rows.append(
            {
                "click_id": uuid.UUID(int=rnd.getrandbits(128)),
                "share_id": share.share_id,
                "occurred_at": share.posted_at + timedelta(seconds=rnd.randint(0, 5 * 86400)),
                "visitor_hash": f"{rnd.randint(0, 30_000):064x}",
                "status": "valid" if valid else "rejected",
                "reason": reason,
            }
        )
        if valid:
            share.totals["clicks"] += 1
        else:
            share.totals["rejected:" + reason] += 1  # type: ignore[operator]
    reported_rows = []
    for i in range(reported):
        share = rnd.choice(out)
        kind = rnd.choice(("reactions", "comments", "reshares", "impressions"))
        count = rnd.randint(1, 5) if kind != "impressions" else rnd.randint(50, 500)
        valid = rnd.random() < 0.95
        row: dict[str, Any] = {
            "source": "gen",
            "source_event_id": f"e{i}",
            "share_id": share.share_id,
            "network": share.network if valid else "email",
            "kind": kind,
            "count": count,
            "applied": count if valid else 0,
            "status": "valid" if valid else "rejected",
            "reason": None if valid else "network_mismatch",
            "occurred_at": share.posted_at + timedelta(seconds=rnd.randint(0, 7 * 86400)),
            "label": None,
            "score": None,
            "tags": [],
        }
        if kind == "comments":
            label = rnd.choice(LABELS)
            row["label"] = label
            row["score"] = None if label == "unscored" else round(rnd.uniform(-1, 1), 4)
            row["tags"] = rnd.sample(TAGS, rnd.randint(0, 2))
        if valid:
            share.totals[kind] += count
            share.impressions_reported |= kind == "impressions"
        reported_rows.append(row)
    audiences = {(a, n): rnd.randint(50, 5000) for a in advocates[:150] for n in NETWORKS}
    return DataSet(tenant, out, click_rows, reported_rows, audiences, content, enrolled=240)


async def load(conn: asyncpg.Connection, data: DataSet) -> None:
    t = data.tenant
    await conn.copy_records_to_table(
        "shares",
        columns=[
            "tenant_id",
            "share_id",
            "content_id",
            "advocate_id",
            "team_ids",
            "network",
            "campaign_hashtags",
            "caption_hashtags",
            "posted_at",
            "clicks",
            "reactions",
            "comments",
            "reshares",
            "impressions",
            "impressions_reported",
        ],
        records=[
            (
                t,
                s.share_id,
                s.content_id,
                s.advocate_id,
                s.team_ids,
                s.network,
                s.campaign,
                s.caption_tags,
                s.posted_at,
                s.totals["clicks"],
                s.totals["reactions"],
                s.totals["comments"],
                s.totals["reshares"],
                s.totals["impressions"],
                s.impressions_reported,
            )
            for s in data.shares
        ],
    )
    await conn.copy_records_to_table(
        "clicks",
        columns=[
            "tenant_id",
            "click_id",
            "share_id",
            "occurred_at",
            "visitor_hash",
            "status",
            "reason",
        ],
        records=[
            (
                t,
                c["click_id"],
                c["share_id"],
                c["occurred_at"],
                c["visitor_hash"],
                c["status"],
                c["reason"],
            )
            for c in data.clicks
        ],
    )
    await conn.copy_records_to_table(
        "reported",
        columns=[
            "tenant_id",
            "source",
            "source_event_id",
            "share_id",
            "network",
            "kind",
            "count",
            "cumulative",
            "applied",
            "status",
            "reason",
            "occurred_at",
            "sentiment_label",
            "sentiment_score",
            "hashtags",
        ],
        records=[
            (
                t,
                r["source"],
                r["source_event_id"],
                r["share_id"],
                r["network"],
                r["kind"],
                r["count"],
                False,
                r["applied"],
                r["status"],
                r["reason"],
                r["occurred_at"],
                r["label"],
                r["score"],
                r["tags"],
            )
            for r in data.reported
        ],
    )
    await conn.copy_records_to_table(
        "audiences",
        columns=["tenant_id", "advocate_id", "network", "followers"],
        records=[(t, a, n, f) for (a, n), f in data.audiences.items()],
    )
    await conn.copy_records_to_table(
        "content_items",
        columns=[
            "tenant_id",
            "content_id",
            "version",
            "available_from",
            "expires_at",
            "campaign_hashtags",
        ],
        records=[
            (t, c["content_id"], 1, c["available_from"], c["until"], c["campaign"])
            for c in data.content
        ],
    )
    await conn.execute(
        "INSERT INTO programs (tenant_id, enrolled_advocates) VALUES ($1, $2)", t, data.enrolled
    )


# --- independent expectations ------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    zone: str = "UTC"
    bucket: str = "none"
    date_from: date | None = None
    date_to: date | None = None
    team: str | None = None
    advocate: str | None = None
    campaign: str | None = None
    network: str | None = None

    def params(self) -> dict[str, str]:
        out = {"tz": self.zone, "bucket": self.bucket}
        for key, value in (
            ("from", self.date_from),
            ("to", self.date_to),
            ("team", self.team),
            ("advocate", self.advocate),
            ("campaign", self.campaign),
            ("network", self.network),
        ):
            if value is not None:
                out[key] = str(value)
        return out

    def share_ok(self, s: Share) -> bool:
        return (
            (self.team is None or self.team in s.team_ids)
            and (self.advocate is None or s.advocate_id == self.advocate)
            and (self.campaign is None or self.campaign in s.campaign)
            and (self.network is None or s.network == self.network)
        )

    def local(self, ts: datetime) -> date:
        return ts.astimezone(ZoneInfo(self.zone)).date()

    def in_period(self, ts: datetime) -> bool:
        day = self.local(ts)
        return (self.date_from is None or day >= self.date_from) and (
            self.date_to is None or day <= self.date_to
        )

    def bucket_of(self, ts: datetime) -> str | None:
        day = self.local(ts)
        if self.bucket == "none":
            return None
        if self.bucket == "day":
            return day.isoformat()
        if self.bucket == "week":
            return (day - timedelta(days=day.weekday())).isoformat()
        return day.replace(day=1).isoformat()


def expected_top(
    data: DataSet, f: Filters, *, by: str, group: str, limit: int
) -> list[dict[str, Any]]:
    table: dict[tuple[str | None, str], Counter[str]] = defaultdict(Counter)
    for s in data.shares:
        if not (f.share_ok(s) and f.in_period(s.posted_at)):
            continue
        who = s.team_ids if group == "team" else [s.advocate_id]
        for w in who:
            if group == "team" and f.team is not None and w != f.team:
                continue
            cell = table[(f.bucket_of(s.posted_at), w)]
            cell["shares"] += 1
            for k in ("clicks", "reactions", "comments", "reshares"):
                cell[k] += s.totals[k]
                cell["engagement"] += s.totals[k]
    rows = []
    for bucket in sorted({b for b, _ in table}, key=lambda b: b or ""):
        ranked = sorted(
            ((w, c) for (b, w), c in table.items() if b == bucket),
            key=lambda wc: (-wc[1][by], wc[0]),
        )[:limit]
        for w, c in ranked:
            rows.append(
                {"bucket": bucket, "contributor": w}
                | {
                    k: c[k]
                    for k in ("shares", "clicks", "reactions", "comments", "reshares", "engagement")
                }
            )
    return rows


def expected_reach(data: DataSet, f: Filters) -> dict[str | None, dict[str, int]]:
    table: dict[str | None, Counter[str]] = defaultdict(Counter)
    for s in data.shares:
        if not (f.share_ok(s) and f.in_period(s.posted_at)):
            continue
        cell = table[f.bucket_of(s.posted_at)]
        cell["shares"] += 1
        followers = data.audiences.get((s.advocate_id, s.network))
        if s.impressions_reported:
            cell["shares_with_impressions"] += 1
            cell["measured_impressions"] += s.totals["impressions"]
        elif followers is not None:
            cell["shares_estimated"] += 1
            cell["estimated_reach"] += followers
        else:
            cell["shares_without_data"] += 1
    return {
        b: {
            "organic_reach": c["measured_impressions"] + c["estimated_reach"],
            "measured_impressions": c["measured_impressions"],
            "estimated_reach": c["estimated_reach"],
            "shares": c["shares"],
            "shares_with_impressions": c["shares_with_impressions"],
            "shares_estimated": c["shares_estimated"],
            "shares_without_data": c["shares_without_data"],
        }
        for b, c in table.items()
    }


def expected_engagement(data: DataSet, f: Filters) -> dict[tuple[str | None, str], dict[str, int]]:
    shares = data.by_id
    table: dict[tuple[str | None, str], Counter[str]] = defaultdict(Counter)
    for c in data.clicks:
        s = shares[c["share_id"]]
        if c["status"] == "valid" and f.share_ok(s) and f.in_period(c["occurred_at"]):
            table[(f.bucket_of(c["occurred_at"]), s.network)]["clicks"] += 1
    for r in data.reported:
        s = shares[r["share_id"]]
        if r["status"] == "valid" and f.share_ok(s) and f.in_period(r["occurred_at"]):
            table[(f.bucket_of(r["occurred_at"]), s.network)][r["kind"]] += r["applied"]
    kinds = ("clicks", "reactions", "comments", "reshares", "impressions")
    return {k: {kind: c[kind] for kind in kinds} for k, c in table.items()}


def expected_traffic(data: DataSet, f: Filters) -> dict[str | None, dict[str, int]]:
    shares = data.by_id
    table: dict[str | None, Counter[str]] = defaultdict(Counter)
    visitors: dict[str | None, set[str]] = defaultdict(set)
    for c in data.clicks:
        s = shares[c["share_id"]]
        if not (f.share_ok(s) and f.in_period(c["occurred_at"])):
            continue
        b = f.bucket_of(c["occurred_at"])
        if c["status"] == "valid":
            table[b]["valid_clicks"] += 1
            visitors[b].add(c["visitor_hash"])
        else:
            table[b][f"rejected_{c['reason']}"] += 1
    cols = ["valid_clicks"] + [f"rejected_{r}" for r in ("bot", "self_click", "burst", "duplicate")]
    return {
        b: {k: c[k] for k in cols} | {"unique_visitors": len(visitors[b])} for b, c in table.items()
    }


def expected_sentiment(data: DataSet, f: Filters) -> dict[str | None, dict[str, Any]]:
    shares = data.by_id
    table: dict[str | None, Counter[str]] = defaultdict(Counter)
    scores: dict[str | None, list[float]] = defaultdict(list)
    for r in data.reported:
        s = shares[r["share_id"]]
        if r["kind"] != "comments" or r["status"] != "valid":
            continue
        if not (f.share_ok(s) and f.in_period(r["occurred_at"])):
            continue
        b = f.bucket_of(r["occurred_at"])
        table[b]["comments"] += 1
        table[b][r["label"]] += 1
        if r["score"] is not None:
            scores[b].append(r["score"])
    return {
        b: {k: c[k] for k in ("comments", *LABELS)}
        | {"average_score": round(sum(scores[b]) / len(scores[b]), 4) if scores[b] else None}
        for b, c in table.items()
    }


def expected_hashtags(data: DataSet, f: Filters) -> dict[tuple[str | None, str], dict[str, int]]:
    shares = data.by_id
    table: dict[tuple[str | None, str], Counter[str]] = defaultdict(Counter)
    for s in data.shares:
        if f.share_ok(s) and f.in_period(s.posted_at):
            for tag in s.caption_tags:
                table[(f.bucket_of(s.posted_at), tag)]["caption_mentions"] += 1
    for r in data.reported:
        s = shares[r["share_id"]]
        counted = r["kind"] == "comments" and r["status"] == "valid"
        if counted and f.share_ok(s) and f.in_period(r["occurred_at"]):
            for tag in r["tags"]:
                table[(f.bucket_of(r["occurred_at"]), tag)]["comment_mentions"] += 1
    return {
        k: {
            "mentions": c["caption_mentions"] + c["comment_mentions"],
            "caption_mentions": c["caption_mentions"],
            "comment_mentions": c["comment_mentions"],
        }
        for k, c in table.items()
    }


def expected_adoption(data: DataSet, f: Filters) -> dict[str | None, dict[str, Any]]:
    active: dict[str | None, set[str]] = defaultdict(set)
    for s in data.shares:
        if f.share_ok(s) and f.in_period(s.posted_at):
            active[f.bucket_of(s.posted_at)].add(s.advocate_id)
    return {
        b: {
            "adoption_rate": round(len(a) / data.enrolled, 6),
            "active_advocates": len(a),
            "enrolled_advocates": data.enrolled,
        }
        for b, a in active.items()
    }


def expected_share_rate(data: DataSet, f: Filters) -> dict[str | None, dict[str, Any]]:
    zone = ZoneInfo(f.zone)
    shared: dict[str | None, set[str]] = defaultdict(set)
    for s in data.shares:
        if f.share_ok(s) and f.in_period(s.posted_at):
            shared[f.bucket_of(s.posted_at)].add(s.content_id)
    out = {}
    for b, items in shared.items():
        if b is None:
            lo = datetime.combine(f.date_from, datetime.min.time(), zone) if f.date_from else None
            hi = (
                datetime.combine(f.date_to + timedelta(days=1), datetime.min.time(), zone)
                if f.date_to
                else None
            )
        else:
            first = date.fromisoformat(b)
            lo = datetime.combine(first, datetime.min.time(), zone)
            if f.bucket == "day":
                nxt = first + timedelta(days=1)
            elif f.bucket == "week":
                nxt = first + timedelta(days=7)
            else:
                nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            hi = datetime.combine(nxt, datetime.min.time(), zone)
        available = {
            c["content_id"]
            for c in data.content
            if (f.campaign is None or f.campaign in c["campaign"])
            and (hi is None or c["available_from"] < hi)
            and (lo is None or c["until"] is None or c["until"] > lo)
        }
        n = len(items & available)
        out[b] = {
            "share_rate": round(n / len(available), 6) if available else None,
            "items_shared": n,
            "items_available": len(available),
        }
    return out
