"""Merging the services' documents: owned paths only, renamed clashing schemas, problems."""

from __future__ import annotations

from typing import Any

from chorus_gateway.openapi.merge import merge
from chorus_gateway.routing.policy import Policy


def doc(path: str, schema: str, body: dict[str, Any]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {
        "openapi": "3.1.0",
        "paths": {
            path: {"get": {"responses": {"200": {"content": {"application/json": {"schema": ref}}},
                                         "422": {"description": "Validation Error"}},
                           "parameters": [{"name": "q", "in": "query"}]}},
            "/healthz": {"get": {"responses": {}}},
        },
        "components": {"schemas": {schema: body}},
    }  # fmt: skip


def test_clashing_schemas_are_renamed_and_refs_follow() -> None:
    content = doc("/v1/content/items", "Page", {"type": "object", "title": "content"})
    rewards = doc("/v1/rewards/rules", "Page", {"type": "object", "title": "rewards"})
    merged = merge(
        {"paths": {}}, {"content": content, "rewards": rewards},
        lambda service, path: path.startswith(f"/v1/{service}"), Policy(),
        title="t", version="1", server_url="http://x",
    )  # fmt: skip
    assert set(merged["paths"]) == {"/v1/content/items", "/v1/rewards/rules"}
    schemas = merged["components"]["schemas"]
    assert schemas["Page"]["title"] == "content" and schemas["RewardsPage"]["title"] == "rewards"
    ok = merged["paths"]["/v1/rewards/rules"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/RewardsPage")
    responses = merged["paths"]["/v1/content/items"]["get"]["responses"]
    assert responses["422"] == {"$ref": "#/components/responses/Problem422"}
    assert {"401", "403", "429", "502", "503", "504"} <= set(responses)
    assert "Problem" in schemas and "Problem422" in merged["components"]["responses"]
