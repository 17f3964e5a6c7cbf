"""The advocate's feed, built from content events on the real Kafka and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chorus_devstack.waiting import eventually
from chorus_events.contracts.content import Targeting

pytestmark = pytest.mark.integration


async def _until_feed(tenant: Any, expected: list[str], **kwargs: Any) -> None:
    async def matches() -> bool:
        return bool(await tenant.feed_ids(**kwargs) == expected)

    await eventually(matches, what=f"feed {kwargs or ''} == {expected}")


async def test_targeted_content_reaches_its_teams_only(tenant: Any, client: Any) -> None:
    await tenant.approve("for-sales", targeting=Targeting(audience="teams", team_ids=("sales",)))
    await tenant.approve("for-hr", targeting=Targeting(audience="teams", team_ids=("hr", "it")))
    await tenant.approve("for-all")
    await _until_feed(tenant, ["for-all", "for-hr", "for-sales"], who="boss", teams=("sales", "hr"))
    assert sorted(await tenant.feed_ids("alice", ("sales",))) == ["for-all", "for-sales"]
    assert sorted(await tenant.feed_ids("henry", ("hr",))) == ["for-all", "for-hr"]
    assert await tenant.feed_ids("nobody", ()) == ["for-all"]
    other = type(tenant)(client, tenant.publisher, tenant.secret)
    assert await other.feed_ids() == []


async def test_newest_first_filters_cursor_and_already_shared(tenant: Any) -> None:
    now = datetime.now(UTC)
    for n in range(5):
        await tenant.approve(
            f"c{n}",
            publish_at=now - timedelta(hours=10 - n),
            category="culture" if n % 2 else "recruiting",
            campaign_hashtags=("#Spring",) if n < 2 else (),
        )
    await _until_feed(tenant, ["c4", "c3", "c2", "c1", "c0"])
    first = await tenant.feed(limit=2)
    assert [i["content_id"] for i in first["items"]] == ["c4", "c3"]
    second = await tenant.feed(limit=2, cursor=first["next_cursor"])
    third = await tenant.feed(limit=2, cursor=second["next_cursor"])
    assert [i["content_id"] for i in second["items"] + third["items"]] == ["c2", "c1", "c0"]
    assert third["next_cursor"] is None
    assert await tenant.feed_ids(category="culture") == ["c3", "c1"]
    assert await tenant.feed_ids(campaign="spring") == ["c1", "c0"]
    assert await tenant.feed_ids(campaign="#Spring", category="recruiting") == ["c0"]

    assert (await tenant.share(content_id="c2", network="x")).status_code == 201
    assert (await tenant.share(content_id="c2", network="linkedin")).status_code == 201
    items = {i["content_id"]: i for i in (await tenant.feed())["items"]}
    assert (items["c2"]["already_shared"], items["c2"]["shared_networks"]) == (
        True,
        ["linkedin", "x"],
    )
    assert (items["c3"]["already_shared"], items["c3"]["shared_networks"]) == (False, [])
    # Another advocate has not shared it.
    assert not {i["content_id"]: i for i in (await tenant.feed("bob"))["items"]}["c2"][
        "already_shared"
    ]


async def test_unpublished_and_expired_content_is_not_in_the_feed(tenant: Any) -> None:
    now = datetime.now(UTC)
    await tenant.approve("later", publish_at=now + timedelta(hours=1))
    await tenant.approve(
        "gone", publish_at=now - timedelta(hours=2), expires_at=now - timedelta(hours=1)
    )
    await tenant.approve("live")
    await _until_feed(tenant, ["live"])


async def test_newer_versions_replace_older_ones_and_stale_ones_are_ignored(tenant: Any) -> None:
    await tenant.approve("c1", version=2, title="Second")
    await _until_feed(tenant, ["c1"])
    await tenant.approve("c1", version=1, title="First (late)")
    await tenant.approve("c1", version=3, title="Third")

    async def third() -> bool:
        return [i["title"] for i in (await tenant.feed())["items"]] == ["Third"]

    await eventually(third, what="version 3 in the feed")
    await tenant.approve("c1", version=2, title="Second (replayed)")
    await tenant.approve("sentinel")
    await _until_feed(tenant, ["sentinel", "c1"])
    assert [i["version"] for i in (await tenant.feed())["items"]] == [1, 3]


async def test_retirement_removes_content_and_a_reapproval_restores_it(tenant: Any) -> None:
    await tenant.approve("c1")
    await tenant.approve("c2")
    await _until_feed(tenant, ["c2", "c1"])
    await tenant.retire("c1")
    await _until_feed(tenant, ["c2"])
    response = await tenant.share(content_id="c1", network="linkedin")
    assert (response.status_code, response.json()["type"]) == (
        409, "https://chorus.dev/problems/content-not-shareable",
    )  # fmt: skip
    await tenant.approve("c1", version=2)
    await _until_feed(tenant, ["c1", "c2"])


async def test_a_retirement_that_overtakes_its_approval_still_hides_it(tenant: Any) -> None:
    # content.retired and content.approved are different topics: no order between them.
    await tenant.retire("c1", reason="archived")
    await tenant.approve("c1", approved_at=datetime.now(UTC) - timedelta(minutes=1))
    await tenant.approve("sentinel")
    await _until_feed(tenant, ["sentinel"])
