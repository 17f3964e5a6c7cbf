"""Sharing on the real stack: one share.posted per share, caps and duplicates, isolation."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chorus_devstack.apps import identity_headers, serve_app
from chorus_devstack.waiting import eventually
from chorus_events.contracts.registry import SHARE_POSTED
from chorus_platform.identity import PrincipalKind
from chorus_sharing.app import create_app

pytestmark = pytest.mark.integration
PROBLEMS = "https://chorus.dev/problems/"


async def _in_feed(tenant: Any, *content_ids: str) -> None:
    async def present() -> bool:
        return set(content_ids) <= set(await tenant.feed_ids())

    await eventually(present, what=f"{content_ids} in the feed")


async def _backlog_empty(app: Any) -> None:
    async def empty() -> bool:
        return bool(
            await app.state.ctx.pool.fetchval(
                "SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL"
            )
        )

    await eventually(empty, what="outbox drained")


async def test_a_share_is_posted_once_with_its_link_intent_and_text(
    tenant: Any, sharing_app: Any, topic_reader: Any
) -> None:
    reader = await topic_reader(SHARE_POSTED)
    await tenant.approve("c1")
    await _in_feed(tenant, "c1")
    response = await tenant.share(
        content_id="c1", network="x", caption="So proud of this launch", audience_size=1200
    )
    assert response.status_code == 201, response.text
    share = response.json()
    assert share["state"] == "posted" and share["warnings"] == []
    assert share["final_text"] == "So proud of this launch\n\n#employee #ChorusLaunch"
    code = share["link"]["code"]
    assert share["link"]["url"] == f"https://go.example.com/l/{code}"
    destination = urlsplit(share["link"]["destination_url"])
    assert parse_qs(destination.query) == {
        "ref": ["feed"], "utm_source": ["x"], "utm_medium": ["employee_advocacy"],
        "utm_campaign": ["ChorusLaunch"], "utm_content": [share["id"]],
    }  # fmt: skip
    intent = parse_qs(urlsplit(share["intent"]["url"]).query)
    assert intent == {"text": [share["final_text"]], "url": [share["link"]["url"]]}

    await _backlog_empty(sharing_app)
    [event] = await reader.events(tenant.id)
    posted = event.payload
    assert (posted.share_id, posted.advocate_id, posted.team_ids) == (
        share["id"],
        "alice",
        ("sales",),
    )
    assert (posted.link_code, posted.tracked_url) == (code, share["link"]["url"])
    assert posted.destination_url == share["link"]["destination_url"]
    assert (posted.network, posted.campaign_hashtags, posted.scheduled) == (
        "x",
        ("#ChorusLaunch",),
        False,
    )
    assert event.headers["ce_source"] == "/chorus/sharing"
    fetched = await tenant.client.get(f"/v1/shares/{share['id']}", headers=tenant.headers())
    assert fetched.json()["link"] == share["link"]


async def test_captions_are_checked_by_the_content_service(tenant: Any) -> None:
    await tenant.approve("c1")
    await _in_feed(tenant, "c1")
    blocked = await tenant.share(content_id="c1", network="linkedin", caption="A confidential plan")
    assert blocked.status_code == 422
    body = blocked.json()
    assert (body["type"], body["field"]) == (PROBLEMS + "caption-rejected", "caption")
    assert body["violations"][0] | {"message": None} == {
        "kind": "blocked_term", "severity": "block", "start": 2, "end": 14,
        "text": "confidential", "message": None, "suggestion": None,
    }  # fmt: skip
    warned = await tenant.share(content_id="c1", network="linkedin", caption="An awesome plan")
    assert warned.status_code == 201
    assert [w["suggestion"] for w in warned.json()["warnings"]] == ["great"]


async def test_no_content_service_means_no_share(
    tenant: Any, make_settings: Any, sharing_app: Any
) -> None:
    await tenant.approve("c1")
    await _in_feed(tenant, "c1")
    settings = make_settings(
        content_url="http://127.0.0.1:9",  # discard port: nothing listens
        consumers_enabled=False, outbox_relay_enabled=False, scheduler_enabled=False,
    )  # fmt: skip
    async with serve_app(create_app(settings)) as other:
        response = await other.post(
            "/v1/shares", json={"content_id": "c1", "network": "linkedin", "caption": "Hi"},
            headers=tenant.headers(),
        )  # fmt: skip
        assert (response.status_code, response.json()["type"]) == (
            503,
            PROBLEMS + "guidelines-unavailable",
        )
        # Without a caption there is nothing to check: sharing still works.
        plain = await other.post("/v1/shares", json={"content_id": "c1", "network": "linkedin"},
                                 headers=tenant.headers())  # fmt: skip
        assert plain.status_code == 201


async def test_the_daily_cap_holds_under_concurrent_requests(tenant: Any) -> None:
    put = await tenant.client.put(
        "/v1/sharing/policy",
        json={"daily_cap": 3, "duplicate_rule": "identical"},
        headers=tenant.admin(),
    )
    assert put.status_code == 200 and put.json()["updated_by"] == "boss"
    for n in range(8):
        await tenant.approve(f"c{n}")
    await _in_feed(tenant, *(f"c{n}" for n in range(8)))
    responses = await asyncio.gather(
        *(tenant.share(content_id=f"c{n}", network="linkedin") for n in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [429] * 5
    refused = next(r.json() for r in responses if r.status_code == 429)
    assert refused["type"] == PROBLEMS + "daily-cap-reached" and refused["daily_cap"] == 3
    # Another advocate has a quota of their own.
    assert (await tenant.share("bob", content_id="c0", network="linkedin")).status_code == 201


async def test_the_identical_share_is_refused_even_when_sent_twice_at_once(tenant: Any) -> None:
    await tenant.approve("c1")
    await _in_feed(tenant, "c1")
    body = {"content_id": "c1", "network": "facebook", "caption": "Same words"}
    first, second = await asyncio.gather(tenant.share(**body), tenant.share(**body))
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    conflict = (first if first.status_code == 409 else second).json()
    created = (first if first.status_code == 201 else second).json()
    assert conflict["type"] == PROBLEMS + "duplicate-share"
    assert conflict["existing_share_id"] == created["id"]
    assert (await tenant.share(**body | {"caption": "Other words"})).status_code == 201


async def test_shares_are_private_to_advocate_and_tenant(tenant: Any, client: Any) -> None:
    await tenant.approve("c1")
    await _in_feed(tenant, "c1")
    mine = (await tenant.share(content_id="c1", network="email")).json()
    await tenant.share("bob", content_id="c1", network="email")
    own = await client.get("/v1/shares", headers=tenant.headers())
    assert [s["id"] for s in own.json()["items"]] == [mine["id"]]
    assert (
        await client.get(f"/v1/shares/{mine['id']}", headers=tenant.headers("bob"))
    ).status_code == 404
    admin_view = await client.get("/v1/shares", params={"network": "email"}, headers=tenant.admin())
    assert {s["advocate_id"] for s in admin_view.json()["items"]} == {"alice", "bob"}
    only_bob = await client.get("/v1/shares", params={"advocate_id": "bob"}, headers=tenant.admin())
    assert [s["advocate_id"] for s in only_bob.json()["items"]] == ["bob"]

    other = type(tenant)(client, tenant.publisher, tenant.secret)
    assert (await client.get(f"/v1/shares/{mine['id']}", headers=other.admin())).status_code == 404
    assert (await client.get("/v1/shares", headers=other.admin())).json()["items"] == []
    assert (await other.share(content_id="c1", network="email")).status_code == 404


async def test_people_only_share_and_only_admins_set_policy(tenant: Any, client: Any) -> None:
    body = {"content_id": "c1", "network": "linkedin"}
    assert (await client.post("/v1/shares", json=body)).status_code == 401
    key = identity_headers(tenant.secret, tenant.id, "crm", (), kind=PrincipalKind.API_KEY,
                           scopes=("sharing:read",))  # fmt: skip
    assert (await client.post("/v1/shares", json=body, headers=key)).status_code == 403
    assert (await client.get("/v1/shares", headers=key)).status_code == 200
    policy = {"daily_cap": 5}
    assert (
        await client.put("/v1/sharing/policy", json=policy, headers=tenant.headers())
    ).status_code == 403
    got = await client.get("/v1/sharing/policy", headers=tenant.admin())
    assert got.json() | {"tenant_id": None} == {
        "tenant_id": None, "daily_cap": 10, "duplicate_rule": "identical",
        "default_link_url": None, "day_boundary": "UTC", "updated_at": None, "updated_by": None,
    }  # fmt: skip
    invalid = await client.put("/v1/sharing/policy", json={"daily_cap": 0}, headers=tenant.admin())
    assert (invalid.status_code, invalid.json()["errors"][0]["field"]) == (422, "daily_cap")


async def test_instagram_gets_copy_text_and_no_intent(tenant: Any) -> None:
    await tenant.approve("c1")
    await _in_feed(tenant, "c1")
    share = (await tenant.share(content_id="c1", network="instagram", caption="Look!")).json()
    assert share["intent"] == {"url": None, "prefilled_text": False}
    assert share["final_text"] == "Look!\n\n#employee #ChorusLaunch"
