"""A tenant never sees, changes or learns about another tenant's data, on every route."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from chorus_platform.identity import Role

pytestmark = pytest.mark.integration

ITEMS = "/v1/content/items"
ALL_ROLES = [Role.ADMIN, Role.EDITOR, Role.APPROVER, Role.ADVOCATE]


async def _item_in_each_state(client: httpx.AsyncClient, tenant: Any, body: Any) -> list[str]:
    """Ids of a draft, an item in review, a published one and a rejected one."""
    ids = []
    for target in ("draft", "in_review", "published", "rejected"):
        item = (await client.post(ITEMS, json=body(title=target), headers=tenant.editor)).json()
        url = f"{ITEMS}/{item['id']}"
        if target != "draft":
            await client.post(f"{url}/submit", headers=tenant.editor)
        if target == "published":
            await client.post(f"{url}/approve", headers=tenant.approver)
        if target == "rejected":
            await client.post(f"{url}/reject", json={"comment": "no"}, headers=tenant.approver)
        ids.append(item["id"])
    return ids


async def test_other_tenants_items_are_invisible_on_every_read_and_write_route(
    client: httpx.AsyncClient, tenant: Any, other_tenant: Any, item_body: Any
) -> None:
    theirs = await _item_in_each_state(client, tenant, item_body)
    mine = (await client.post(ITEMS, json=item_body(), headers=other_tenant.editor)).json()
    intruder = other_tenant.as_("mallory", ALL_ROLES, teams=["sales"])
    for item_id in theirs:
        url = f"{ITEMS}/{item_id}"
        attempts = [
            await client.get(url, headers=intruder),
            await client.get(f"{url}/audit", headers=intruder),
            await client.patch(url, json={"title": "pwned"}, headers=intruder),
            await client.post(f"{url}/reject", json={"comment": "x"}, headers=intruder),
        ]
        attempts += [
            await client.post(f"{url}/{action}", headers=intruder)
            for action in ("submit", "approve", "reopen", "archive")
        ]
        for response in attempts:
            # 404, never 403: the answer must not reveal that the id exists.
            assert response.status_code == 404, (response.request.url, response.text)
        own = await client.get(url, headers=tenant.editor)
        assert own.json()["title"] in ("draft", "in_review", "published", "rejected")
        assert own.json()["version"] == 1

    queries: list[dict[str, Any]] = [
        {},
        {"state": ["draft", "in_review", "published", "rejected"]},
        {"category": "product_announcements"},
        {"language": "en"},
        {"team": "sales"},
        {"campaign": "#Launch"},
        {"q": "our biggest"},
        {"limit": 100},
    ]
    for params in queries:
        listed = await client.get(ITEMS, params=params, headers=intruder)
        assert listed.status_code == 200, listed.text
        assert [i["id"] for i in listed.json()["items"]] == [mine["id"]], params
    for advocate in (other_tenant.advocate(), other_tenant.advocate("sales")):
        listed = await client.get(ITEMS, headers=advocate)
        assert listed.json()["items"] == []


async def test_categories_and_guidelines_are_per_tenant(
    client: httpx.AsyncClient, tenant: Any, other_tenant: Any, item_body: Any
) -> None:
    added = await client.post(
        "/v1/content/categories", json={"slug": "events", "name": "Events"}, headers=tenant.admin
    )
    assert added.status_code == 201, added.text
    mine = await client.get("/v1/content/categories", headers=other_tenant.advocate())
    assert "events" not in [c["slug"] for c in mine.json()["items"]]
    assert len(mine.json()["items"]) == 5
    unknown = await client.post(
        ITEMS, json=item_body(category="events"), headers=other_tenant.editor
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "category"
    deleted = await client.delete("/v1/content/categories/events", headers=other_tenant.admin)
    assert deleted.status_code == 404
    theirs = await client.get("/v1/content/categories", headers=tenant.advocate())
    assert "events" in [c["slug"] for c in theirs.json()["items"]]

    policy = {"policy": {"blocked_terms": [{"term": "secret", "reason": "confidential"}]}}
    await client.put("/v1/content/guidelines", json=policy, headers=tenant.admin)
    text = {"text": "a secret plan"}
    theirs_check = await client.post(
        "/v1/content/guidelines/check", json=text, headers=tenant.editor
    )
    assert theirs_check.json()["ok"] is False
    mine_check = await client.post(
        "/v1/content/guidelines/check", json=text, headers=other_tenant.editor
    )
    assert mine_check.json() == {"ok": True, "violations": []}
    mine_doc = await client.get("/v1/content/guidelines", headers=other_tenant.admin)
    assert mine_doc.json()["version"] == 0
    assert mine_doc.json()["policy"]["blocked_terms"] == []
