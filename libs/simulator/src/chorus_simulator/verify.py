"""Compare what the platform shows through the gateway with the expectation."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any

from chorus_simulator.expect import Expectation
from chorus_simulator.gateway import ApiError, Gateway, Headers
from chorus_simulator.record import Record

PERIODS = ("all", "month", "week", "day")
TOP_LIMIT = 500


def periods_for(record: Record) -> tuple[str, ...]:
    """Period boards are compared when the whole run fell into one local day."""
    start = datetime.fromisoformat(record.started_at).date()
    end = datetime.fromisoformat(record.finished_at or record.started_at).date()
    return PERIODS if start == end else ("all",)


async def board(
    gw: Gateway, admin: Headers, metric: str, scope: str, scope_id: str, period: str
) -> dict[str, int]:
    values: dict[str, int] = {}
    offset = 0
    while True:
        params: dict[str, Any] = {"scope": scope, "period": period, "limit": 100, "offset": offset}
        if scope_id:
            params["scope_id"] = scope_id
        page = await gw.call(
            "GET", f"/v1/rewards/leaderboards/{metric}", headers=admin, params=params
        )
        previous = None  # order within a page; pages of a live board may move in between
        for entry in page["entries"]:
            value = int(entry["value"])
            if previous is not None and value > previous:
                raise AssertionError(f"{metric}/{scope}/{scope_id}: ranks out of value order")
            previous = value
            if value:
                values[entry["advocate_id"]] = value
        offset += len(page["entries"])
        if not page["entries"] or offset >= page["total"]:
            return values


async def mismatches(
    gw: Gateway, admin: Headers, record: Record, expected: Expectation
) -> list[str]:
    """Every difference between the platform and the expectation (empty: all equal)."""
    found: list[str] = []
    for (metric, scope, scope_id), want in sorted(expected.boards.items()):
        for period in periods_for(record):
            got = await board(gw, admin, metric, scope, scope_id, period)
            if got != want:
                diff = {
                    a: (want.get(a), got.get(a))
                    for a in set(want) | set(got)
                    if want.get(a) != got.get(a)
                }
                found.append(
                    f"board {metric}/{scope}/{scope_id or '-'}/{period}: "
                    f"{len(diff)} advocates differ (want, got): {_head(diff)}"
                )
    for advocate in record.advocates:
        try:
            account = await gw.call("GET", f"/v1/rewards/accounts/{advocate}", headers=admin)
        except ApiError as exc:
            if exc.status != 404:
                raise
            account = {"earned": 0, "balance": 0, "shares": 0}
        want_earned = expected.earned.get(advocate, 0)
        if (account["earned"], account["balance"]) != (want_earned, want_earned):
            found.append(
                f"account {advocate}: earned/balance {account['earned']}/"
                f"{account['balance']}, want {want_earned}"
            )
        if account["shares"] != expected.rewardable_shares.get(advocate, 0):
            found.append(
                f"account {advocate}: {account['shares']} rewardable shares, "
                f"want {expected.rewardable_shares.get(advocate, 0)}"
            )
    found += await kpi_mismatches(gw, admin, expected)
    return found


async def kpi_mismatches(gw: Gateway, admin: Headers, expected: Expectation) -> list[str]:
    found: list[str] = []
    traffic = await gw.call("GET", "/v1/metrics/kpis/traffic", headers=admin)
    got = _sum_columns(traffic)
    want_valid = sum(t.clicks for t in expected.totals.values())
    if got.get("valid_clicks", 0) != want_valid:
        found.append(f"kpi traffic: valid clicks {got.get('valid_clicks')}, want {want_valid}")
    for reason, count in expected.rejected.items():
        if not count <= got.get(f"rejected_{reason}", 0) <= count + expected.ambiguous_clicks:
            found.append(
                f"kpi traffic: rejected {reason} {got.get(f'rejected_{reason}')}, want {count}"
            )
    top = await gw.call(
        "GET", "/v1/metrics/kpis/top-contributors", headers=admin, params={"limit": TOP_LIMIT}
    )
    engagement = expected.engagement_by_advocate()
    want_rows = min(TOP_LIMIT, len(expected.shares_by_advocate))
    if len(top["rows"]) != want_rows:
        found.append(f"kpi top contributors: {len(top['rows'])} rows, want {want_rows}")
    for row in top["rows"]:
        who = row["contributor"]
        want = (expected.shares_by_advocate[who], engagement.get(who, 0))
        if (row["shares"], row["engagement"]) != want:
            found.append(
                f"kpi top contributors {who}: shares, engagement "
                f"{(row['shares'], row['engagement'])}, want {want}"
            )
    return found


def _sum_columns(report: dict[str, Any]) -> dict[str, int]:
    sums: Counter[str] = Counter()
    for row in report["rows"]:
        for name, value in row.items():
            if isinstance(value, int):
                sums[name] += value
    return dict(sums)


def _head(diff: dict[str, Any], n: int = 5) -> str:
    return ", ".join(f"{k}: {v}" for k, v in list(diff.items())[:n])


async def until_matching(
    gw: Gateway, admin: Headers, record: Record, expected: Expectation, deadline: float = 120.0
) -> list[str]:
    """Poll until the platform shows the expectation, or the deadline passes; returns
    what still differed (empty: the platform converged)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while True:
        found = await mismatches(gw, admin, record, expected)
        if not found or loop.time() > end:
            return found
        await asyncio.sleep(0.5)
