"""Listing: filters, Unicode text search and keyset pagination over the real database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

ITEMS = "/v1/content/items"


async def test_filters_and_cursor_pages(
    client: httpx.AsyncClient, tenant: Any, item_body: Any
) -> None:
    specs = [
        {"title": "삼성은 아니고 Chorus", "language": "ko", "category": "culture"},
        {"title": "Hiring engineers", "category": "recruiting", "campaign_hashtags": ["#Jobs"]},
        {"title": "Sales kickoff", "targeting": {"audience": "teams", "team_ids": ["sales"]}},
        {"title": "Ops rota", "targeting": {"audience": "teams", "team_ids": ["ops"]}},
        {"title": "Ünïcode Straße", "language": "de"},
        {"title": "Plain one"},
        {"title": "Plain two"},
    ]
    ids = []
    for spec in specs:
        created = await client.post(ITEMS, json=item_body(**spec), headers=tenant.editor)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    await client.post(f"{ITEMS}/{ids[1]}/submit", headers=tenant.editor)

    async def titles(**params: Any) -> list[str]:
        response = await client.get(ITEMS, params=params, headers=tenant.editor)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    assert await titles(language="ko") == ["삼성은 아니고 Chorus"]
    assert await titles(category="recruiting", state="in_review") == ["Hiring engineers"]
    assert await titles(state=["draft"], category="recruiting") == []
    assert await titles(campaign="jobs") == ["Hiring engineers"]
    assert "Ops rota" not in await titles(team="sales")
    assert "Sales kickoff" in await titles(team="sales")
    # Words match as prefixes, case-insensitively, in any script.
    assert await titles(q="삼성") == ["삼성은 아니고 Chorus"]
    assert await titles(q="ÜNÏCODE") == ["Ünïcode Straße"]
    assert await titles(q="plain T") == ["Plain two"]

    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(ITEMS, params=params, headers=tenant.editor)).json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == list(reversed(ids)), "newest first, no gaps"
