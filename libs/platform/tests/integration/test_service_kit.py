"""A service built by the kit really reaches its engines, migrates, and reports on itself."""

from __future__ import annotations

import gc

import pytest
from chorus_content.app import build_spec
from chorus_content.settings import ContentSettings
from chorus_devstack.apps import serve_app, settings_for
from chorus_devstack.waiting import eventually
from chorus_platform.app import create_service_app
from chorus_platform.gc_tuning import MIDDLE_THRESHOLD, OLD_THRESHOLD, YOUNG_THRESHOLD

pytestmark = pytest.mark.integration


def _settings(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, secret: str
) -> ContentSettings:
    return settings_for(
        ContentSettings,
        database_url=postgres_dsn,
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        internal_token_secret=secret,
    )


async def test_ready_only_after_reaching_every_engine_and_migrating(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, internal_token_secret: str
) -> None:
    app = create_service_app(
        build_spec(_settings(postgres_dsn, kafka_bootstrap, redis_url, internal_token_secret))
    )
    # Each start-up freezes what it built (tests start many apps in one process).
    frozen_before = gc.get_freeze_count()
    async with serve_app(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
        assert gc.get_freeze_count() > frozen_before
        assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "kafka": "ok"}
        assert (await client.get("/healthz")).json()["status"] == "ok"
        tables = await app.state.ctx.pool.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'content'"
        )
        assert {"outbox", "processed_events", "schema_migrations"} <= {
            r["table_name"] for r in tables
        }
        missing = await client.get("/v1/nothing-here", headers={"x-request-id": "req-123"})
        assert missing.headers["x-request-id"] == "req-123"
        metrics = (await client.get("/metrics")).text
        assert (
            'chorus_http_requests_total{method="GET",route="/readyz",service="content",status="200"}'
            in metrics
        )
        assert 'chorus_dependency_up{dependency="kafka",service="content"} 1.0' in metrics

        async def backlog_exported() -> bool:
            text = (await client.get("/metrics")).text
            return 'chorus_outbox_backlog_events{service="content"} 0.0' in text

        await eventually(backlog_exported, what="outbox backlog gauge from the running relay")


async def test_not_ready_names_the_unreachable_dependency(
    postgres_dsn: str, kafka_bootstrap: str, internal_token_secret: str
) -> None:
    # Port 9 (discard) is closed on loopback: Redis is unreachable, the rest is fine.
    settings = _settings(
        postgres_dsn, kafka_bootstrap, "redis://127.0.0.1:9/0", internal_token_secret
    )
    app = create_service_app(build_spec(settings))
    async with serve_app(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        body = ready.json()
        assert body["checks"]["postgres"] == "ok"
        assert body["checks"]["kafka"] == "ok"
        assert body["checks"]["redis"] != "ok"
        assert "redis" in body["detail"]
