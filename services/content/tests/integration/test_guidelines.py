"""Guidelines over HTTP: the check API's exact offsets on mixed-script text, submit
refusing blocked content, and a new policy in force for the very next check."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.integration

GUIDELINES = "/v1/content/guidelines"
CHECK = "/v1/content/guidelines/check"
POLICY: dict[str, Any] = {
    "policy": {
        "blocked_terms": [
            {"term": "삼성", "reason": "competitor"},
            {"term": "guaranteed returns", "reason": "no financial promises"},
        ],
        "blocked_topics": [
            {"topic": "politics", "keywords": ["election", "선거"], "reason": "we stay neutral"}
        ],
        "required_disclosures": [{"category": "recruiting", "text": "#employee"}],
    },
    "style": {
        "preferred_spellings": [
            {"wrong": "Hootsuite", "right": "Chorus"},
            {"wrong": "github", "right": "GitHub"},
        ],
        "required_hashtags": [
            {"hashtag": "#ChorusLife"},
            {"hashtag": "Hiring", "networks": ["linkedin"]},
        ],
    },
}
# Emoji (outside the BMP: one code point, two UTF-16 units), Hangul with particles,
# Latin with odd case and spacing.
TEXT = "🎉 삼성은 GUARANTEED  returns! 선거가 곧. Hootsuite보다 GitHub, Github 👍🏽 #choruslife"


async def test_check_reports_each_violation_with_exact_code_point_offsets(
    client: httpx.AsyncClient, tenant: Any
) -> None:
    put = await client.put(GUIDELINES, json=POLICY, headers=tenant.admin)
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 1
    checked = await client.post(
        CHECK,
        json={"text": TEXT, "category": "recruiting", "network": "linkedin"},
        headers=tenant.advocate(),
    )
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert result["ok"] is False
    found = [
        (v["kind"], v["severity"], v["start"], v["end"], v["text"], v["suggestion"])
        for v in result["violations"]
    ]
    end = len(TEXT)
    assert found == [
        ("blocked_term", "block", 2, 4, "삼성", None),
        ("blocked_term", "block", 6, 25, "GUARANTEED  returns", None),
        ("blocked_topic", "block", 27, 29, "선거", None),
        ("spelling", "warn", 34, 43, "Hootsuite", "Chorus"),
        ("spelling", "warn", 54, 60, "Github", "GitHub"),
        ("missing_disclosure", "block", end, end, "", "#employee"),
        ("missing_hashtag", "warn", end, end, "", "#Hiring"),
    ]
    for kind, _, start, stop, text, _ in found:
        if kind not in ("missing_disclosure", "missing_hashtag"):
            assert TEXT[start:stop] == text
    topic = result["violations"][2]
    assert "politics" in topic["message"]
    assert "we stay neutral" in topic["message"]


async def test_warnings_alone_leave_the_text_ok_and_other_networks_skip_their_hashtags(
    client: httpx.AsyncClient, tenant: Any
) -> None:
    await client.put(GUIDELINES, json=POLICY, headers=tenant.admin)
    checked = await client.post(
        CHECK, json={"text": "Hootsuite rocks #ChorusLife", "network": "x"}, headers=tenant.editor
    )
    result = checked.json()
    assert result["ok"] is True
    assert [v["kind"] for v in result["violations"]] == ["spelling"]


async def test_new_guidelines_apply_to_the_next_check(
    client: httpx.AsyncClient, tenant: Any
) -> None:
    empty = await client.post(CHECK, json={"text": "Acme is great"}, headers=tenant.advocate())
    assert empty.json() == {"ok": True, "violations": []}
    policy = {"policy": {"blocked_terms": [{"term": "acme", "reason": "old name"}]}}
    assert (await client.put(GUIDELINES, json=policy, headers=tenant.admin)).json()["version"] == 1
    after = await client.post(CHECK, json={"text": "Acme is great"}, headers=tenant.advocate())
    assert after.json()["ok"] is False
    assert (await client.put(GUIDELINES, json={}, headers=tenant.admin)).json()["version"] == 2
    cleared = await client.post(CHECK, json={"text": "Acme is great"}, headers=tenant.advocate())
    assert cleared.json()["ok"] is True
    got = await client.get(GUIDELINES, headers=tenant.advocate())
    assert got.json()["version"] == 2
    assert got.json()["updated_by"] == "ad"
    assert (await client.put(GUIDELINES, json={}, headers=tenant.editor)).status_code == 403


async def test_submit_refuses_blocked_content_naming_field_and_violation_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, tenant: Any, item_body: Any
) -> None:
    await client.put(GUIDELINES, json=POLICY, headers=tenant.admin)
    body = item_body(
        category="recruiting",
        body="Join us — 삼성에서 오셨나요?",
        suggested_captions={"linkedin": ["We are hiring #ChorusLife #Hiring #employee", "Apply!"]},
    )
    item = (await client.post("/v1/content/items", json=body, headers=tenant.editor)).json()
    url = f"/v1/content/items/{item['id']}"
    refused = await client.post(f"{url}/submit", headers=tenant.editor)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/guideline-violations")
    blocking = [
        (v["field"], v["kind"], v["start"], v["end"])
        for v in problem["violations"]
        if v["severity"] == "block"
    ]
    assert blocking == [
        ("body", "blocked_term", 10, 12),
        ("suggested_captions.linkedin.1", "missing_disclosure", 6, 6),
    ]
    assert "body" in problem["detail"]
    assert (await client.get(url, headers=tenant.editor)).json()["state"] == "draft"
    audit = await db.fetchval(
        "SELECT count(*) FROM item_audit WHERE tenant_id = $1 AND item_id = $2",
        tenant.id,
        item["id"],
    )
    assert audit == 1  # the creation only

    fixed = {
        "body": "Join us!",
        "suggested_captions": {"linkedin": ["We are hiring #employee #ChorusLife #Hiring"]},
    }
    await client.patch(url, json=fixed, headers=tenant.editor)
    submitted = await client.post(f"{url}/submit", headers=tenant.editor)
    assert submitted.status_code == 200, submitted.text
    # The policy's disclosure for the category now travels with the item.
    assert submitted.json()["required_disclosure"] == "#employee"
