"""Bad input gets a 422 problem naming the field, and nothing is written."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.integration

ITEMS = "/v1/content/items"


async def _rows(db: asyncpg.Connection, tenant_id: str) -> tuple[int, int, int]:
    items = await db.fetchval("SELECT count(*) FROM items WHERE tenant_id = $1", tenant_id)
    audit = await db.fetchval("SELECT count(*) FROM item_audit WHERE tenant_id = $1", tenant_id)
    events = await db.fetchval(
        "SELECT count(*) FROM outbox WHERE key LIKE $1::bytea", f"{tenant_id}:%".encode()
    )
    return items, audit, events


def _problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


BAD_CREATES: list[tuple[dict[str, Any], str]] = [
    ({"title": None}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"body": "x" * 10_001}, "body"),
    ({"link_url": "ftp://example.com/file"}, "link_url"),
    ({"link_url": "javascript:alert(1)"}, "link_url"),
    ({"link_url": "https://example.com/" + "a" * 2048}, "link_url"),
    ({"suggested_captions": {"tiktok": ["hi"]}}, "suggested_captions.tiktok.[key]"),
    ({"suggested_captions": {"x": ["y" * 3001]}}, "suggested_captions.x.0"),
    ({"suggested_captions": {"x": ["y"] * 11}}, "suggested_captions.x"),
    ({"suggested_captions": {"x": []}}, "suggested_captions.x"),
    ({"campaign_hashtags": ["#two words"]}, "campaign_hashtags.0"),
    ({"campaign_hashtags": [f"#t{n}" for n in range(31)]}, "campaign_hashtags"),
    ({"category": "Not A Slug"}, "category"),
    ({"category": "no_such_category"}, "category"),
    ({"language": "english!"}, "language"),
    ({"media": [{"kind": "hologram", "url": "https://e.com/a.png"}]}, "media.0.kind"),
    ({"targeting": {"audience": "teams"}}, "targeting"),
    ({"publish_at": "2030-01-01T10:00:00"}, "publish_at"),
    (
        {"publish_at": "2030-01-02T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"},
        "expires_at",
    ),
    ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"unknown_field": 1}, "unknown_field"),
]


async def test_bad_items_are_refused_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient, db: asyncpg.Connection, tenant: Any, item_body: Any
) -> None:
    for overrides, field in BAD_CREATES:
        body = item_body(**overrides)
        if overrides.get("title", "") is None:
            del body["title"]
        response = await client.post(ITEMS, json=body, headers=tenant.editor)
        assert field in _problem_fields(response), (overrides, response.text)
        assert field in response.json()["detail"]
    assert await _rows(db, tenant.id) == (0, 0, 0)
    not_json = await client.post(
        ITEMS, content=b"{", headers={**tenant.editor, "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert await _rows(db, tenant.id) == (0, 0, 0)


async def test_a_bad_patch_leaves_the_item_as_it_was(
    client: httpx.AsyncClient, db: asyncpg.Connection, tenant: Any, item_body: Any
) -> None:
    item = (await client.post(ITEMS, json=item_body(), headers=tenant.editor)).json()
    url = f"{ITEMS}/{item['id']}"
    for patch, field in [
        ({"title": None}, "title"),
        ({"body": "x" * 10_001}, "body"),
        ({"link_url": "mailto:a@b.c"}, "link_url"),
        ({"category": "unknown"}, "category"),
        ({"suggested_captions": {"myspace": ["hi"]}}, "suggested_captions.myspace.[key]"),
        (
            {"publish_at": "2030-01-02T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"},
            "expires_at",
        ),
    ]:
        response = await client.patch(url, json=patch, headers=tenant.editor)
        assert field in _problem_fields(response), (patch, response.text)
    # A patch valid alone but not with the stored item: the merged item is checked.
    item_with_expiry = await client.patch(
        url, json={"expires_at": "2031-01-01T00:00:00Z"}, headers=tenant.editor
    )
    assert item_with_expiry.status_code == 200
    merged = await client.patch(
        url, json={"publish_at": "2032-01-01T00:00:00Z"}, headers=tenant.editor
    )
    assert "expires_at" in _problem_fields(merged)
    stored = (await client.get(url, headers=tenant.editor)).json()
    assert stored["version"] == 2
    assert stored["title"] == item["title"]
    assert stored["publish_at"] is None
    assert await _rows(db, tenant.id) == (1, 1, 0)


async def test_bad_checks_and_queries_name_the_field(
    client: httpx.AsyncClient, tenant: Any
) -> None:
    check = "/v1/content/guidelines/check"
    cases = [
        (await client.post(check, json={"text": "x" * 20_001}, headers=tenant.advocate()), "text"),
        (
            await client.post(
                check, json={"text": "hi", "network": "myspace"}, headers=tenant.advocate()
            ),
            "network",
        ),
        (await client.post(check, json={}, headers=tenant.advocate()), "text"),
        (await client.get(ITEMS, params={"limit": 101}, headers=tenant.editor), "limit"),
        (await client.get(ITEMS, params={"cursor": "garbage"}, headers=tenant.editor), "cursor"),
        (await client.get(ITEMS, params={"state": "lost"}, headers=tenant.editor), "state.0"),
        (await client.get(ITEMS, params={"q": "🎉!"}, headers=tenant.editor), "q"),
    ]
    for response, field in cases:
        assert field in _problem_fields(response), response.text
    policy = {"policy": {"blocked_terms": [{"term": "!!!", "reason": "no letters"}]}}
    bad_policy = await client.put("/v1/content/guidelines", json=policy, headers=tenant.admin)
    assert "policy.blocked_terms.0.term" in _problem_fields(bad_policy)
    assert (await client.get("/v1/content/guidelines", headers=tenant.admin)).json()["version"] == 0
