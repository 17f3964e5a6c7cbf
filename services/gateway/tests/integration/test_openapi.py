"""The published OpenAPI document and its docs pages (served without any CDN)."""

from __future__ import annotations

import httpx


async def test_the_merged_document_publishes_routes_security_and_problems(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/v1/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["openapi"] == "3.1.0"
    assert "/v1/directory/people" in doc["paths"] and "/v1/auth/login" in doc["paths"]
    assert not any(p.startswith(("/healthz", "/metrics")) for p in doc["paths"])
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status"]
    create = doc["paths"]["/v1/directory/people"]["post"]
    invalid = create["responses"]["422"]
    assert invalid["$ref"] == "#/components/responses/Problem422"
    assert "401" in create["responses"] and "429" in create["responses"]
    assert doc["paths"]["/v1/auth/login"]["post"]["security"] == []
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]


async def test_docs_pages_use_local_assets(client: httpx.AsyncClient) -> None:
    for page in ("/v1/docs", "/v1/docs/reference"):
        html = (await client.get(page)).text
        assert "http" not in html.replace("http-equiv", "")  # nothing from elsewhere
    asset = await client.get("/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert (await client.get("/docs")).status_code == 404
