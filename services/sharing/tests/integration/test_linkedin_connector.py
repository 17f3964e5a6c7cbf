"""LinkedIn member posting against a loopback fake of the Posts API contract (off by default)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from chorus_devstack.apps import serve_app
from chorus_devstack.waiting import eventually
from chorus_sharing.app import create_app
from chorus_sharing.connectors import MemberCredentials, NetworkPost
from chorus_sharing.connectors.linkedin import LinkedInMemberConnector
from chorus_sharing.errors import ConnectorFailed
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import SecretStr

pytestmark = pytest.mark.integration
TOKEN = "AQX-member-token-7f3c"


def fake_linkedin(posts: list[dict[str, Any]]) -> FastAPI:
    """`POST /rest/posts` as documented: headers, body shape, 201 + x-restli-id."""
    app = FastAPI()

    @app.post("/rest/posts")
    async def create_post(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"status": 401, "code": "REVOKED_ACCESS_TOKEN"}, status_code=401)
        version = request.headers.get("linkedin-version", "")
        if (
            not re.fullmatch(r"\d{6}", version)
            or request.headers.get("x-restli-protocol-version") != "2.0.0"
        ):
            return JSONResponse({"status": 400, "message": "bad headers"}, status_code=400)
        body = await request.json()
        problems = [
            not re.fullmatch(r"urn:li:person:[A-Za-z0-9_-]+", body.get("author", "")),
            not isinstance(body.get("commentary"), str),
            body.get("visibility") != "PUBLIC",
            body.get("distribution", {}).get("feedDistribution") != "MAIN_FEED",
            not body.get("content", {}).get("article", {}).get("source", "").startswith("http"),
            body.get("lifecycleState") != "PUBLISHED",
        ]
        if any(problems):
            return JSONResponse({"status": 422, "message": "invalid post"}, status_code=422)
        posts.append(body)
        return Response(status_code=201, headers={"x-restli-id": f"urn:li:share:{len(posts)}"})

    return app


@pytest.fixture
async def linkedin(loopback: Any) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    posts: list[dict[str, Any]] = []
    async with loopback(fake_linkedin(posts)) as url:
        yield url, posts


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


async def test_the_connector_speaks_the_posts_api_contract(linkedin: Any) -> None:
    url, posts = linkedin
    async with httpx.AsyncClient(base_url=url) as client:
        connector = LinkedInMemberConnector(client, version="202510")
        post = NetworkPost(
            text="Launch (v2) is out! #ChorusLaunch", link_url="https://go.example.com/l/abc",
            title="Chorus 2.0",
        )  # fmt: skip
        grant = MemberCredentials("AbC-123", SecretStr(TOKEN))
        assert await connector.publish(post, grant) == "urn:li:share:1"
        [body] = posts
        assert body["author"] == "urn:li:person:AbC-123"
        assert body["commentary"] == "Launch \\(v2\\) is out! #ChorusLaunch"
        assert body["content"]["article"] == {
            "source": "https://go.example.com/l/abc", "title": "Chorus 2.0",
        }  # fmt: skip

        captured = Captured()
        logging.getLogger().addHandler(captured)
        try:
            revoked = MemberCredentials("AbC-123", SecretStr("expired-token-9"))
            with pytest.raises(ConnectorFailed) as caught:
                await connector.publish(post, revoked)
        finally:
            logging.getLogger().removeHandler(captured)
        assert caught.value.status == 502
        assert caught.value.extensions["reconnect"] is True
        assert captured.lines and not any("expired-token-9" in line for line in captured.lines)
        assert "expired-token-9" not in repr(revoked)


async def test_api_posting_is_off_unless_enabled(tenant: Any) -> None:
    response = await tenant.client.put(
        "/v1/sharing/connections/linkedin",
        json={"member_id": "AbC-123", "access_token": TOKEN}, headers=tenant.headers(),
    )  # fmt: skip
    assert (response.status_code, response.json()["type"]) == (
        409, "https://chorus.dev/problems/connector-unavailable",
    )  # fmt: skip


async def test_an_advocate_posts_to_linkedin_through_the_api_now_and_scheduled(
    tenant: Any, make_settings: Any, content_url: str, linkedin: Any
) -> None:
    url, posts = linkedin
    await tenant.approve("c1")
    await tenant.approve("c2")

    async def in_feed() -> bool:
        return {"c1", "c2"} <= set(await tenant.feed_ids())

    await eventually(in_feed, what="content in the feed")
    settings = make_settings(
        consumers_enabled=False, content_url=content_url,
        linkedin_api_enabled=True, linkedin_api_base=url,
    )  # fmt: skip
    async with serve_app(create_app(settings)) as client:
        headers = tenant.headers()
        body = {"content_id": "c1", "network": "linkedin", "via": "api", "caption": "Proud!"}
        refused = await client.post("/v1/shares", json=body, headers=headers)
        assert refused.json()["type"].endswith("/connector-unavailable")  # not connected yet
        connect = {"member_id": "AbC-123", "access_token": TOKEN}
        connected = await client.put(
            "/v1/sharing/connections/linkedin", json=connect, headers=headers
        )
        assert connected.json() == {
            "network": "linkedin",
            "member_id": "AbC-123",
            "connected": True,
        }

        now = await client.post("/v1/shares", json=body, headers=headers)
        assert now.status_code == 201, now.text
        share = now.json()
        assert (share["state"], share["external_post_id"]) == ("posted", "urn:li:share:1")
        assert posts[0]["content"]["article"]["source"] == share["link"]["url"]
        assert posts[0]["commentary"] == "Proud!\n\n#employee #ChorusLaunch"

        later = datetime.now(UTC) + timedelta(seconds=1)
        scheduled = await client.post(
            "/v1/shares", headers=headers,
            json={"content_id": "c2", "network": "linkedin", "via": "api",
                  "scheduled_at": later.isoformat()},
        )  # fmt: skip
        assert scheduled.json()["state"] == "scheduled"

        async def posted() -> bool:
            got = await client.get(f"/v1/shares/{scheduled.json()['id']}", headers=headers)
            return bool(got.json()["external_post_id"] == "urn:li:share:2")

        await eventually(posted, what="the scheduled share posted through the API")
        x_body = body | {"network": "x", "content_id": "c2"}
        assert (await client.post("/v1/shares", json=x_body, headers=headers)).status_code == 409
