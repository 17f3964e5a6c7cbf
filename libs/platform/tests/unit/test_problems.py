"""Every error is RFC 9457 problem+json, naming the field at fault, never a stack trace."""

from __future__ import annotations

import pytest
from chorus_platform.problems import PROBLEM_MEDIA_TYPE, Conflict, install_problem_handlers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

pytestmark = pytest.mark.unit


class Caption(BaseModel):
    text: str = Field(min_length=1, max_length=10)
    network: str


def _client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/captions")
    def create(caption: Caption) -> Caption:
        return caption

    @app.post("/items/{item_id}/approve")
    def approve(item_id: int) -> None:
        raise Conflict("item is in state draft", current_state="draft")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    return TestClient(app, raise_server_exceptions=False)


def test_validation_error_names_each_field() -> None:
    response = _client().post("/captions", json={"text": "x" * 11})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["status"] == 422
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"text", "network"}
    assert fields["text"]["pointer"] == "/text"
    assert "network" in body["detail"] and "text" in body["detail"]


def test_business_error_carries_status_and_extensions() -> None:
    response = _client().post("/items/7/approve")
    assert response.status_code == 409
    body = response.json()
    assert body["current_state"] == "draft"
    assert body["type"].endswith("/conflict")
    assert body["instance"] == "/items/7/approve"


def test_path_parameter_errors_name_the_parameter() -> None:
    response = _client().post("/items/seven/approve")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "item_id"
    assert response.json()["errors"][0]["in"] == "path"


def test_unknown_route_is_a_problem_too() -> None:
    response = _client().get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_unexpected_errors_hide_internals() -> None:
    response = _client().get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


def test_a_problem_can_carry_response_headers() -> None:
    from chorus_platform.problems import ProblemError

    class SlowDown(ProblemError):
        status, type_slug, title = 429, "rate-limited", "Too many requests"

    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/busy")
    def busy() -> None:
        raise SlowDown("daily cap reached", headers={"Retry-After": "60"}, limit=10)

    response = TestClient(app).get("/busy")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    assert response.json()["limit"] == 10
    assert "headers" not in response.json()
