"""The approval workflow over HTTP: roles, four-eyes, illegal transitions, audit trail,
and the events the outbox holds for each step."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from chorus_platform.identity import Role

pytestmark = pytest.mark.integration

ITEMS = "/v1/content/items"


async def _outbox(db: asyncpg.Connection, tenant_id: str, item_id: str) -> list[str]:
    rows = await db.fetch(
        "SELECT topic FROM outbox WHERE key = $1 ORDER BY id", f"{tenant_id}:{item_id}".encode()
    )
    return [row["topic"] for row in rows]


async def test_draft_to_published_with_four_eyes_refusal_and_full_audit_trail(
    client: httpx.AsyncClient, db: asyncpg.Connection, tenant: Any, item_body: Any
) -> None:
    author = tenant.as_("alice", [Role.EDITOR, Role.APPROVER])
    created = await client.post(ITEMS, json=item_body(), headers=author)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["state"] == "draft"
    assert item["version"] == 1
    assert item["allowed_actions"] == ["submit", "archive"]
    url = f"{ITEMS}/{item['id']}"

    edited = await client.patch(url, json={"title": "Chorus 2.0 ships"}, headers=author)
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Chorus 2.0 ships"
    assert edited.json()["version"] == 2
    assert (await client.post(f"{url}/submit", headers=author)).json()["state"] == "in_review"

    locked = await client.patch(url, json={"title": "late edit"}, headers=author)
    assert locked.status_code == 409
    assert locked.headers["content-type"] == "application/problem+json"
    assert locked.json()["current_state"] == "in_review"

    own = await client.post(f"{url}/approve", headers=author)
    assert own.status_code == 403, own.text
    assert own.json()["rule"] == "four-eyes"
    assert "four-eyes" in own.json()["detail"]

    no_reason = await client.post(f"{url}/reject", json={}, headers=tenant.approver)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "comment"
    rejected = await client.post(
        f"{url}/reject", json={"comment": "Add the launch date"}, headers=tenant.approver
    )
    assert rejected.json()["state"] == "rejected"

    resubmit = await client.post(f"{url}/submit", headers=author)
    assert resubmit.status_code == 409
    assert resubmit.json()["current_state"] == "rejected"
    assert resubmit.json()["allowed_actions"] == ["reopen", "archive"]

    assert (await client.post(f"{url}/reopen", headers=author)).json()["state"] == "draft"
    await client.patch(url, json={"body": "Out on 1 March."}, headers=author)
    await client.post(f"{url}/submit", json={"comment": "dated"}, headers=author)
    approved = await client.post(f"{url}/approve", json={"comment": "ok"}, headers=tenant.approver)
    assert approved.status_code == 200, approved.text
    # No publish_at: live at once.
    assert approved.json()["state"] == "published"
    assert approved.json()["approved_by"] == "ap"

    again = await client.post(f"{url}/approve", headers=tenant.approver)
    assert again.status_code == 409
    assert again.json()["current_state"] == "published"
    assert await _outbox(db, tenant.id, item["id"]) == ["content.approved"]

    not_admin = await client.post(f"{url}/archive", headers=tenant.approver)
    assert not_admin.status_code == 403
    archived = await client.post(f"{url}/archive", json={"comment": "old"}, headers=tenant.admin)
    assert archived.json()["state"] == "archived"
    assert await _outbox(db, tenant.id, item["id"]) == ["content.approved", "content.retired"]

    trail = await client.get(f"{url}/audit", headers=tenant.editor)
    assert trail.status_code == 200
    steps = [
        (e["action"], e["from_state"], e["to_state"], e["actor"], e["comment"])
        for e in trail.json()["items"]
    ]
    assert steps == [
        ("create", None, "draft", "alice", None),
        ("submit", "draft", "in_review", "alice", None),
        ("reject", "in_review", "rejected", "ap", "Add the launch date"),
        ("reopen", "rejected", "draft", "alice", None),
        ("submit", "draft", "in_review", "alice", "dated"),
        ("approve", "in_review", "approved", "ap", "ok"),
        ("publish", "approved", "published", "system", None),
        ("archive", "published", "archived", "ad", "old"),
    ]
    times = [e["at"] for e in trail.json()["items"]]
    assert times == sorted(times)


async def test_roles_decide_who_writes_decides_and_reads(
    client: httpx.AsyncClient, tenant: Any, item_body: Any
) -> None:
    assert (
        await client.post(ITEMS, json=item_body(), headers=tenant.advocate())
    ).status_code == 403
    assert (await client.post(ITEMS, json=item_body(), headers=tenant.approver)).status_code == 403
    draft = (await client.post(ITEMS, json=item_body(), headers=tenant.editor)).json()
    url = f"{ITEMS}/{draft['id']}"
    # Advocates read only live content: a draft does not exist for them.
    assert (await client.get(url, headers=tenant.advocate())).status_code == 404
    assert (await client.get(f"{url}/audit", headers=tenant.advocate())).status_code == 403
    await client.post(f"{url}/submit", headers=tenant.editor)
    assert (await client.post(f"{url}/approve", headers=tenant.editor)).status_code == 403
    await client.post(f"{url}/approve", headers=tenant.approver)
    seen = await client.get(url, headers=tenant.advocate())
    assert seen.status_code == 200
    assert seen.json()["state"] == "published"

    unauthenticated = await client.get(url)
    assert unauthenticated.status_code == 401


async def test_targeted_items_are_visible_only_to_their_teams(
    client: httpx.AsyncClient, tenant: Any, item_body: Any
) -> None:
    body = item_body(targeting={"audience": "teams", "team_ids": ["sales"]})
    item = (await client.post(ITEMS, json=body, headers=tenant.editor)).json()
    url = f"{ITEMS}/{item['id']}"
    await client.post(f"{url}/submit", headers=tenant.editor)
    await client.post(f"{url}/approve", headers=tenant.approver)
    assert (await client.get(url, headers=tenant.advocate("sales"))).status_code == 200
    assert (await client.get(url, headers=tenant.advocate("ops"))).status_code == 404
    listed = await client.get(ITEMS, headers=tenant.advocate("ops"))
    assert listed.json()["items"] == []
    listed = await client.get(ITEMS, headers=tenant.advocate("ops", "sales"))
    assert [i["id"] for i in listed.json()["items"]] == [item["id"]]


async def test_past_publish_at_goes_live_on_approval_and_archiving_a_scheduled_item_is_silent(
    client: httpx.AsyncClient, db: asyncpg.Connection, tenant: Any, item_body: Any
) -> None:
    past = item_body(publish_at="2020-01-01T00:00:00Z")
    item = (await client.post(ITEMS, json=past, headers=tenant.editor)).json()
    await client.post(f"{ITEMS}/{item['id']}/submit", headers=tenant.editor)
    live = (await client.post(f"{ITEMS}/{item['id']}/approve", headers=tenant.approver)).json()
    assert live["state"] == "published"
    assert await _outbox(db, tenant.id, item["id"]) == ["content.approved"]

    future = item_body(publish_at="2999-01-01T00:00:00Z")
    item = (await client.post(ITEMS, json=future, headers=tenant.editor)).json()
    await client.post(f"{ITEMS}/{item['id']}/submit", headers=tenant.editor)
    waiting = (await client.post(f"{ITEMS}/{item['id']}/approve", headers=tenant.approver)).json()
    assert waiting["state"] == "approved"
    archived = await client.post(f"{ITEMS}/{item['id']}/archive", headers=tenant.admin)
    assert archived.json()["state"] == "archived"
    # Never announced, so nothing to retire.
    assert await _outbox(db, tenant.id, item["id"]) == []
