"""The directory API: tenants, teams, people and API keys, inside the caller's tenant."""

from __future__ import annotations

import httpx

from .conftest import Tenant, TenantFactory


async def test_admin_manages_teams_and_people_with_cursor_pages(tenant: Tenant) -> None:
    client = tenant.client
    teams = []
    for name in ("Sales", "Engineering", "Marketing"):
        made = await client.post("/v1/directory/teams", json={"name": name}, headers=tenant.admin)
        assert made.status_code == 201, made.text
        teams.append(made.json()["id"])
    for i in range(5):
        await tenant.person("advocate", teams=(teams[i % 3],))
    await tenant.person("editor", "approver", teams=(teams[0], teams[1]))

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await client.get("/v1/directory/people", params=params, headers=tenant.admin)
        assert page.status_code == 200, page.text
        seen += [p["id"] for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7  # the admin, five advocates, the editor

    in_sales = await client.get(
        "/v1/directory/people", params={"team": teams[0]}, headers=tenant.admin
    )
    assert len(in_sales.json()["items"]) == 3
    editors = await client.get(
        "/v1/directory/people", params={"role": "editor"}, headers=tenant.admin
    )
    [editor] = editors.json()["items"]
    assert editor["roles"] == ["approver", "editor"]
    assert editor["team_ids"] == sorted(teams[:2])
    assert editor["enrolment"] == "invited" and editor["has_password"] is True


async def test_tenant_settings_validate_the_time_zone(tenant: Tenant) -> None:
    client = tenant.client
    got = await client.get("/v1/directory/tenant", headers=tenant.admin)
    assert got.json()["time_zone"] == "Europe/Paris"
    bad = await client.patch(
        "/v1/directory/tenant", json={"time_zone": "Mars/Olympus"}, headers=tenant.admin
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "time_zone"
    ok = await client.patch(
        "/v1/directory/tenant", json={"time_zone": "America/New_York"}, headers=tenant.admin
    )
    assert ok.json()["time_zone"] == "America/New_York"


async def test_duplicate_email_conflicts_and_unknown_team_is_named(tenant: Tenant) -> None:
    person = await tenant.person("advocate")
    again = await tenant.client.post(
        "/v1/directory/people",
        json={"email": person["email"], "display_name": "Twin", "roles": ["advocate"]},
        headers=tenant.admin,
    )
    assert again.status_code == 409
    unknown = await tenant.client.post(
        "/v1/directory/people",
        json={"email": "x@example.com", "display_name": "X", "roles": ["advocate"],
              "team_ids": ["no-such-team"]},
        headers=tenant.admin,
    )  # fmt: skip
    assert unknown.status_code == 422


async def test_another_tenants_ids_are_not_found(new_tenant: TenantFactory) -> None:
    ours, theirs = await new_tenant(), await new_tenant()
    person = await theirs.person("advocate")
    team = await theirs.client.post(
        "/v1/directory/teams", json={"name": "Theirs"}, headers=theirs.admin
    )
    client: httpx.AsyncClient = ours.client
    for path in (
        f"/v1/directory/people/{person['id']}",
        f"/v1/directory/teams/{team.json()['id']}",
    ):
        assert (await client.get(path, headers=ours.admin)).status_code == 404
    changed = await client.patch(
        f"/v1/directory/people/{person['id']}", json={"roles": ["admin"]}, headers=ours.admin
    )
    assert changed.status_code == 404
    deleted = await client.delete(f"/v1/directory/people/{person['id']}", headers=ours.admin)
    assert deleted.status_code == 404
    still = await client.get(f"/v1/directory/people/{person['id']}", headers=theirs.admin)
    assert still.json()["roles"] == ["advocate"]


async def test_non_admins_cannot_manage_the_directory(tenant: Tenant) -> None:
    editor = await tenant.as_role("editor")
    client = tenant.client
    assert (await client.get("/v1/directory/people", headers=editor)).status_code == 403
    created = await client.post(
        "/v1/directory/people",
        json={"email": "y@example.com", "display_name": "Y", "roles": ["admin"]},
        headers=editor,
    )
    assert created.status_code == 403
    assert (await client.get("/v1/directory/teams", headers=editor)).status_code == 200
    me = await client.get("/v1/directory/me", headers=editor)
    assert me.status_code == 200 and me.json()["roles"] == ["editor"]


async def test_a_directory_key_cannot_mint_an_admin(tenant: Tenant) -> None:
    key = await tenant.key("directory:write")
    client = tenant.client
    admin = await client.post(
        "/v1/directory/people",
        json={"email": "z@example.com", "display_name": "Z", "roles": ["admin"]},
        headers=key,
    )
    assert admin.status_code == 403
    advocate = await client.post(
        "/v1/directory/people",
        json={"email": "z@example.com", "display_name": "Z", "roles": ["advocate"]},
        headers=key,
    )
    assert advocate.status_code == 201
    keys = await client.post(
        "/v1/directory/api-keys", json={"name": "more", "scopes": ["metrics:read"]}, headers=key
    )
    assert keys.status_code == 403
