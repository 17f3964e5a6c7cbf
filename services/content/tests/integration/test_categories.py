"""Tenant categories on top of the five built-ins."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

CATEGORIES = "/v1/content/categories"


async def test_add_use_and_delete_a_category(
    client: httpx.AsyncClient, tenant: Any, item_body: Any
) -> None:
    builtins = (await client.get(CATEGORIES, headers=tenant.advocate())).json()["items"]
    assert [c["slug"] for c in builtins] == [
        "internal_announcements",
        "product_announcements",
        "thought_leadership",
        "recruiting",
        "culture",
    ]
    assert all(c["builtin"] for c in builtins)
    event = {"slug": "events", "name": "Events"}
    assert (await client.post(CATEGORIES, json=event, headers=tenant.editor)).status_code == 403
    assert (await client.post(CATEGORIES, json=event, headers=tenant.admin)).status_code == 201
    assert (await client.post(CATEGORIES, json=event, headers=tenant.admin)).status_code == 409
    builtin = {"slug": "culture", "name": "Mine"}
    assert (await client.post(CATEGORIES, json=builtin, headers=tenant.admin)).status_code == 409
    bad = await client.post(CATEGORIES, json={"slug": "Not OK", "name": "x"}, headers=tenant.admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "slug"

    item = await client.post(
        "/v1/content/items", json=item_body(category="events"), headers=tenant.editor
    )
    assert item.status_code == 201, item.text
    in_use = await client.delete(f"{CATEGORIES}/events", headers=tenant.admin)
    assert in_use.status_code == 409
    assert (await client.delete(f"{CATEGORIES}/culture", headers=tenant.admin)).status_code == 409
    await client.patch(
        f"/v1/content/items/{item.json()['id']}",
        json={"category": "culture"},
        headers=tenant.editor,
    )
    assert (await client.delete(f"{CATEGORIES}/events", headers=tenant.admin)).status_code == 204
    assert (await client.delete(f"{CATEGORIES}/events", headers=tenant.admin)).status_code == 404
    listed = (await client.get(CATEGORIES, headers=tenant.admin)).json()["items"]
    assert "events" not in [c["slug"] for c in listed]
