"""Every KPI against expectations computed in Python on >=10k shares and >=100k engagements."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import date
from typing import Any

import pytest
from chorus_metrics.aggregation.rollup_fold import fold_rollups
from chorus_metrics.kpis import repository as kpi_repository

from .conftest import Metrics
from .kpi_dataset import (
    DataSet,
    Filters,
    expected_adoption,
    expected_engagement,
    expected_hashtags,
    expected_reach,
    expected_sentiment,
    expected_share_rate,
    expected_top,
    expected_traffic,
    generate,
    load,
)

FEB = {"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28)}


@pytest.fixture(scope="module")
async def data(metrics: Metrics) -> DataSet:
    generated = generate("t-kpi-" + secrets.token_hex(5))
    assert len(generated.shares) >= 10_000
    assert len(generated.clicks) + len(generated.reported) >= 100_000
    async with metrics.pool.acquire() as conn:
        async with conn.transaction():
            await load(conn, generated)
        # The contributor rankings are read once the load's deltas are folded.
        await fold_rollups(conn)
    return generated


async def _get(metrics: Metrics, data: DataSet, kpi: str, f: Filters, **extra: Any) -> Any:
    response = await metrics.client.get(
        f"/v1/metrics/kpis/{kpi}",
        params=f.params() | {k: str(v) for k, v in extra.items()},
        headers=metrics.admin(data.tenant),
    )
    assert response.status_code == 200, response.text
    return response.json()


def _by(rows: list[dict[str, Any]], *keys: str) -> dict[Any, dict[str, Any]]:
    out = {}
    for row in rows:
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        out[key] = {k: v for k, v in row.items() if k not in keys}
    return out


@pytest.mark.parametrize(
    ("f", "by", "group"),
    [
        (Filters("Europe/Berlin", "month", **FEB), "engagement", "advocate"),
        (Filters("America/New_York", "week", network="linkedin"), "shares", "advocate"),
        (Filters("UTC", "none", team="team-3"), "engagement", "team"),
        (Filters("Asia/Kolkata", "day", date(2026, 3, 1), date(2026, 3, 3)), "shares", "team"),
        # Rollup edges of every sign: months and days added and taken back, raw slivers.
        (Filters("America/New_York", "month"), "engagement", "advocate"),
        (Filters("Asia/Kolkata", "none", date(2026, 1, 10), date(2026, 3, 20)), "shares", "team"),
        (Filters("Europe/Berlin", "month", campaign="#launch"), "engagement", "advocate"),
        # Ranked periods (contributor_rollups): a year, weeks and months in a zone, with
        # every scope (network, team, both) and slivers of every sign.
        (Filters("UTC", "none", date(2026, 1, 1), date(2026, 12, 31)), "engagement", "advocate"),
        (Filters("Europe/Berlin", "week"), "engagement", "team"),
        (Filters("Pacific/Chatham", "month", network="x"), "shares", "team"),
        (Filters("America/New_York", "month", team="team-2"), "engagement", "advocate"),
        (
            Filters(
                "UTC", "none", date(2026, 1, 5), date(2026, 1, 31), team="team-4", network="xing"
            ),
            "shares",
            "advocate",
        ),
        (Filters("Asia/Kolkata", "week", team="team-7"), "engagement", "team"),
        (Filters("UTC", "none", date(2026, 2, 3), date(2026, 3, 1)), "engagement", "advocate"),
        # Partial first and last weeks of 1-3 days: the runs at a UTC week's edges (0010),
        # in zones, across New York's and Berlin's DST changes (8 and 29 March), and not.
        (Filters("Europe/Berlin", "week", date(2026, 1, 2), date(2026, 3, 16)), "engagement",
         "advocate"),
        (Filters("America/New_York", "week", date(2026, 1, 3), date(2026, 3, 10)), "shares",
         "team"),
        (Filters("Asia/Kolkata", "week", date(2026, 1, 4), date(2026, 3, 4)), "shares",
         "advocate"),
        (Filters("Pacific/Chatham", "week", date(2026, 2, 1), date(2026, 3, 4)), "engagement",
         "team"),
        # Partial weeks of 5-6 days: the week less a run of its first or last days.
        (Filters("Europe/Berlin", "week", date(2026, 1, 7), date(2026, 3, 21)), "shares",
         "advocate"),
        (Filters("America/New_York", "week", date(2026, 1, 6), date(2026, 3, 13)), "engagement",
         "advocate"),
        (Filters("Asia/Kolkata", "week", date(2026, 1, 7), date(2026, 3, 13)), "engagement",
         "team"),
        (Filters("Europe/Berlin", "day", date(2026, 3, 27), date(2026, 3, 31)), "engagement",
         "advocate"),
    ],
)  # fmt: skip
async def test_top_contributors(
    metrics: Metrics, data: DataSet, f: Filters, by: str, group: str
) -> None:
    body = await _get(metrics, data, "top-contributors", f, by=by, group=group, limit=7)
    assert body["rows"] == expected_top(data, f, by=by, group=group, limit=7)
    assert body["measurement"]["clicks"] == ["measured"]
    assert body["measurement"]["engagement"] == ["measured", "reported"]


@pytest.mark.parametrize(
    ("f", "by", "group"),
    [
        (Filters("America/New_York", "month"), "shares", "advocate"),
        (Filters("Europe/Berlin", "week"), "engagement", "advocate"),
        (
            Filters("Europe/Berlin", "week", date(2026, 1, 2), date(2026, 3, 16)),
            "shares",
            "advocate",
        ),
        (
            Filters("America/New_York", "week", date(2026, 1, 6), date(2026, 3, 13)),
            "engagement",
            "advocate",
        ),
        (Filters("UTC", "none", date(2026, 2, 3), date(2026, 3, 1)), "engagement", "team"),
        (
            Filters("UTC", "none", date(2026, 1, 1), date(2026, 12, 31), network="x"),
            "shares",
            "advocate",
        ),
    ],
)
async def test_top_contributors_when_ranked_reads_go_deeper_or_give_up(
    metrics: Metrics,
    data: DataSet,
    f: Filters,
    by: str,
    group: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ranked periods read 1, 2, then 4 rows per bucket (too few to settle a top 7),
    then every bucket is read without its ranking: the top stays exact."""
    monkeypatch.setattr(kpi_repository, "_FIRST_DEPTH", 0)
    monkeypatch.setattr(kpi_repository, "_FIRST_DEPTH_TEAMS", 0)
    monkeypatch.setattr(kpi_repository, "_DEEPER", 2)
    monkeypatch.setattr(kpi_repository, "_MAX_DEPTH", 4)
    body = await _get(metrics, data, "top-contributors", f, by=by, group=group, limit=7)
    assert body["rows"] == expected_top(data, f, by=by, group=group, limit=7)


@pytest.mark.parametrize(
    "f",
    [
        Filters("Europe/Berlin", "week", campaign="#launch"),
        Filters("UTC", "none", advocate="adv-3"),
    ],
)
async def test_reach(metrics: Metrics, data: DataSet, f: Filters) -> None:
    body = await _get(metrics, data, "reach", f)
    assert _by(body["rows"], "bucket") == expected_reach(data, f)
    assert body["measurement"]["estimated_reach"] == ["estimated"]
    assert "followers" in body["method"]


# Tenant and network filters read engagement_rollups (0013) with signed edges of every
# grain, raw slivers in half-hour zones; other filters read the raw rows.
ENGAGEMENT_FILTERS = [
    Filters("Europe/Berlin", "day", team="team-5", **FEB),
    Filters("Europe/Berlin", "day", **FEB),
    Filters("UTC", "none"),
    Filters("America/New_York", "week", network="linkedin"),
    Filters("Asia/Kolkata", "day", date(2026, 3, 1), date(2026, 3, 3)),
    Filters("Asia/Kolkata", "month", date(2026, 1, 10), date(2026, 3, 20)),
    Filters("Pacific/Chatham", "month", network="x"),
    Filters("America/New_York", "none", date(2026, 1, 1), date(2026, 12, 31)),
    Filters("Europe/Berlin", "week", campaign="#launch"),
]


@pytest.mark.parametrize("f", ENGAGEMENT_FILTERS)
async def test_engagement_per_network(metrics: Metrics, data: DataSet, f: Filters) -> None:
    body = await _get(metrics, data, "engagement", f)
    assert _by(body["rows"], "bucket", "network") == expected_engagement(data, f)
    assert body["measurement"]["reactions"] == ["reported"]


@pytest.mark.parametrize("f", [Filters("Europe/Berlin", "month", network="x"), *ENGAGEMENT_FILTERS])
async def test_traffic(metrics: Metrics, data: DataSet, f: Filters) -> None:
    body = await _get(metrics, data, "traffic", f)
    assert _by(body["rows"], "bucket") == expected_traffic(data, f)


async def test_sentiment(metrics: Metrics, data: DataSet) -> None:
    f = Filters("UTC", "month", network="linkedin")
    body = await _get(metrics, data, "sentiment", f)
    got = _by(body["rows"], "bucket")
    want = expected_sentiment(data, f)
    assert got.keys() == want.keys()
    for bucket, row in want.items():
        assert got[bucket]["average_score"] == pytest.approx(row.pop("average_score"), abs=1e-4)
        assert {k: v for k, v in got[bucket].items() if k != "average_score"} == row


async def test_hashtag_mentions(metrics: Metrics, data: DataSet) -> None:
    f = Filters("Europe/Berlin", "month", **FEB)
    body = await _get(metrics, data, "hashtags", f)
    assert _by(body["rows"], "bucket", "hashtag") == expected_hashtags(data, f)


async def test_adoption(metrics: Metrics, data: DataSet) -> None:
    f = Filters("Europe/Berlin", "month")
    body = await _get(metrics, data, "adoption", f)
    assert _by(body["rows"], "bucket") == expected_adoption(data, f)
    whole = await _get(metrics, data, "adoption", Filters())
    assert whole["rows"][0]["adoption_rate"] == round(200 / 240, 6)


@pytest.mark.parametrize(
    "f",
    [Filters("Europe/Berlin", "month"), Filters("UTC", "none", campaign="#hiring", **FEB)],
)
async def test_share_rate(metrics: Metrics, data: DataSet, f: Filters) -> None:
    body = await _get(metrics, data, "share-rate", f)
    assert _by(body["rows"], "bucket") == expected_share_rate(data, f)


async def test_csv_export_labels_every_figure(metrics: Metrics, data: DataSet) -> None:
    f = Filters("Europe/Berlin", "month", **FEB)
    response = await metrics.client.get(
        "/v1/metrics/kpis/top-contributors",
        params=f.params() | {"format": "csv", "limit": "3", "by": "engagement"},
        headers=metrics.admin(data.tenant),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "bucket",
        "contributor",
        "shares (measured)",
        "clicks (measured)",
        "reactions (reported)",
        "comments (reported)",
        "reshares (reported)",
        "engagement (measured+reported)",
    ]
    want = expected_top(data, f, by="engagement", group="advocate", limit=3)
    assert [r[1] for r in rows[1:]] == [w["contributor"] for w in want]
    assert [int(r[7]) for r in rows[1:]] == [w["engagement"] for w in want]


async def test_kpis_need_a_reader(metrics: Metrics, data: DataSet) -> None:
    response = await metrics.client.get(
        "/v1/metrics/kpis/traffic", headers=metrics.api_key(data.tenant, "metrics:write")
    )
    assert response.status_code == 403
    bad_zone = await metrics.client.get(
        "/v1/metrics/kpis/traffic",
        params={"tz": "Mars/Olympus"},
        headers=metrics.admin(data.tenant),
    )
    assert bad_zone.status_code == 422
