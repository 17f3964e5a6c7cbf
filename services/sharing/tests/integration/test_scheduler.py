"""Scheduled shares post exactly once, even with two instances claiming at the same time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chorus_devstack.apps import serve_app
from chorus_devstack.waiting import eventually
from chorus_events.contracts.registry import SHARE_POSTED
from chorus_sharing.app import create_app

pytestmark = pytest.mark.integration
SHARES = 30


async def test_two_instances_post_each_due_share_once(
    tenant: Any, sharing_app: Any, make_settings: Any, topic_reader: Any
) -> None:
    reader = await topic_reader(SHARE_POSTED)
    await tenant.client.put("/v1/sharing/policy", json={"daily_cap": 1000}, headers=tenant.admin())
    for n in range(SHARES):
        await tenant.approve(f"c{n}")

    async def all_in_feed() -> bool:
        return len(await tenant.feed_ids(limit=100)) == SHARES

    await eventually(all_in_feed, what="content in the feed")
    # The session's instance and a second one (no consumer) both run the scheduler
    # when the shares fall due; claims of 5 (see make_settings) make them interleave.
    later = datetime.now(UTC) + timedelta(hours=1)
    scheduled = []
    for n in range(SHARES):
        response = await tenant.share(content_id=f"c{n}", network="linkedin",
                                      scheduled_at=later.isoformat())  # fmt: skip
        assert response.status_code == 201, response.text
        assert response.json()["state"] == "scheduled" and response.json()["posted_at"] is None
        scheduled.append(response.json()["id"])
    pool = sharing_app.state.ctx.pool
    second_app = create_app(make_settings(consumers_enabled=False))
    async with serve_app(second_app):
        # Fast-forward: all of them fall due at once, while both schedulers run.
        due = datetime.now(UTC)
        await pool.execute(
            "UPDATE shares SET scheduled_at = $2 WHERE tenant_id = $1 AND state = 'scheduled'",
            tenant.id,
            due,
        )

        async def all_posted() -> bool:
            left = await pool.fetchval(
                "SELECT count(*) FROM shares WHERE tenant_id = $1 AND state <> 'posted'", tenant.id
            )
            backlog = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            return bool(left == 0 and backlog == 0)

        await eventually(all_posted, what="every scheduled share posted and published")

    events = await reader.events(tenant.id)
    assert sorted(e.payload.share_id for e in events) == sorted(scheduled)
    assert all(e.payload.scheduled and e.payload.posted_at >= due for e in events)
    mine = await tenant.client.get("/v1/shares", params={"state": "posted", "limit": 100},
                                   headers=tenant.headers())  # fmt: skip
    assert len(mine.json()["items"]) == SHARES
