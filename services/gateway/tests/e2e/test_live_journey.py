"""The journey the live leaderboard exists for, through the gateway only: an advocate
shares approved content, someone clicks the tracked link, and the advocate's SSE
stream shows the engagement ranking change; the ranking API agrees."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from .conftest import Org, Stack, new_org

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


async def events(answer: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    event: dict[str, Any] = {}
    async for line in answer.aiter_lines():
        if not line:
            if "data" in event:
                yield event
            event = {}
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
        elif line.startswith(("id: ", "event: ")):
            name, _, value = line.partition(": ")
            event[name] = value


async def until(check: Any, what: str, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def diagnose(org: Org) -> str:
    """Where the click stopped, asked through the gateway as the tenant's admin."""
    found = []
    for path in ("/v1/metrics/kpis/traffic", "/v1/metrics/kpis/engagement",
                 "/v1/rewards/leaderboards/points",
                 "/v1/rewards/leaderboards/engagement"):  # fmt: skip
        answer = await org.client.get(path, headers=org.headers["admin"])
        body = answer.json()
        found.append(f"{path}: {answer.status_code} {body.get('rows', body.get('entries'))}")
    return "; ".join(found)


async def publish_content(org: Org) -> str:
    client = org.client
    made = await client.post("/v1/content/items", json={
        "title": "We launched", "body": "Read all about it", "category": "product_announcements",
        "language": "en", "link_url": "https://example.com/launch",
    }, headers=org.headers["editor"])  # fmt: skip
    assert made.status_code == 201, made.text
    item_id: str = made.json()["id"]
    submitted = await client.post(f"/v1/content/items/{item_id}/submit",
                                  headers=org.headers["editor"])  # fmt: skip
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(f"/v1/content/items/{item_id}/approve",
                                 headers=org.headers["approver"])  # fmt: skip
    assert approved.status_code == 200, approved.text
    return item_id


async def test_a_click_moves_the_advocate_up_the_live_leaderboard(stack: Stack) -> None:
    org = await new_org(stack)
    for role in ("editor", "approver", "advocate"):
        await org.add(role, teams=(org.ids["team"],))
    item_id = await publish_content(org)
    client, advocate = org.client, org.headers["advocate"]

    async def in_feed() -> bool:
        feed = await client.get("/v1/feed", headers=advocate)
        return item_id in {i["content_id"] for i in feed.json().get("items", [])}

    await until(in_feed, "the approved item in the advocate's feed")
    url = f"{stack.gateway}/v1/leaderboards/engagement/stream?scope=tenant"
    async with (
        httpx.AsyncClient(timeout=60) as http,
        http.stream("GET", url, headers=advocate) as stream,
    ):
        assert stream.status_code == 200
        received = events(stream)
        share = await client.post("/v1/shares", json={"content_id": item_id, "network": "linkedin"},
                                  headers=advocate)  # fmt: skip
        assert share.status_code == 201, share.text
        code = share.json()["link"]["code"]
        # No wait for metrics to learn of the share: a click that arrives first is held
        # and counted when the share does (the race this journey must survive).
        visitor = {"user-agent": BROWSER, "x-forwarded-for": "203.0.113.9"}
        clicked = await client.get(f"/l/{code}", headers=visitor)
        assert clicked.status_code == 302, clicked.text
        assert clicked.headers["location"].startswith("https://example.com/launch")
        try:
            event = await asyncio.wait_for(anext(received), timeout=45)
        except TimeoutError:
            raise AssertionError(f"no engagement change streamed; {await diagnose(org)}") from None
    assert event["event"] == "leaderboard-change"
    assert "engagement:tenant:all" in event["data"]["boards"]
    assert event["data"]["me"] is True

    board = await client.get("/v1/rewards/leaderboards/engagement", headers=advocate)
    assert board.status_code == 200, board.text
    [first, *_] = board.json()["entries"]
    assert first["advocate_id"] == org.ids["advocate"] and first["rank"] == 1
