"""The LinkedIn analytics connector against a local fake of the documented contract."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from chorus_devstack.waiting import eventually
from chorus_events.contracts import SHARE_POSTED, EngagementKind
from chorus_metrics.app import build_spec
from chorus_metrics.connectors.base import ConnectorError, TrackedPost
from chorus_metrics.connectors.linkedin import LinkedInMemberAnalytics, entity_param
from chorus_metrics.connectors.poller import ConnectorPoller
from chorus_metrics.settings import MetricsSettings
from fastapi import FastAPI

from .conftest import Metrics, share_posted
from .fake_linkedin import fake_linkedin

URN = "urn:li:share:7301234567890"


TOKEN = "member-token"


def connector(app: FastAPI, token: str = TOKEN) -> LinkedInMemberAnalytics:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://li.fake")
    return LinkedInMemberAnalytics(client, token=token, version="202510")


def test_entity_encoding() -> None:
    assert entity_param(URN) == "(share:urn%3Ali%3Ashare%3A7301234567890)"
    assert entity_param("urn:li:ugcPost:42") == "(ugcPost:urn%3Ali%3AugcPost%3A42)"
    with pytest.raises(ValueError, match="URN"):
        entity_param("urn:li:person:42")


def test_off_by_default() -> None:
    settings = MetricsSettings()
    assert settings.linkedin_analytics_enabled is False
    # shares and content consumers, the ingest consumers, flusher, rollup fold, relay:
    # no poller
    assert len(build_spec(settings).workers) == 2 + settings.ingest_consumer_instances + 3


async def test_fetch_returns_running_totals() -> None:
    fake = fake_linkedin(TOKEN, {URN: {"IMPRESSION": 900, "REACTION": 12}})
    observed = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    got = await connector(fake).fetch([TrackedPost("acme", "shr-1", URN)], observed)
    by_kind = {o.kind: o for o in got}
    assert by_kind[EngagementKind.IMPRESSIONS].count == 900
    assert by_kind[EngagementKind.REACTIONS].count == 12
    assert by_kind[EngagementKind.COMMENTS].count == 0
    assert all(o.cumulative and o.share_id == "shr-1" for o in got)
    assert fake.state.calls == 4


async def test_refused_token_is_a_connector_error() -> None:
    fake = fake_linkedin(TOKEN, {})
    with pytest.raises(ConnectorError, match="401"):
        await connector(fake, token="wrong").fetch(
            [TrackedPost("acme", "s", URN)], datetime.now(UTC)
        )


async def test_polled_totals_become_increments_on_the_share(metrics: Metrics, tenant: str) -> None:
    await metrics.produce(SHARE_POSTED, share_posted(tenant, "shr-li"))

    async def known() -> bool:
        n = await metrics.fetchval(
            "SELECT count(*) FROM shares WHERE tenant_id = $1 AND share_id = 'shr-li'", tenant
        )
        return bool(n)

    await eventually(known, what="share known")
    urn = f"urn:li:share:{abs(hash(tenant)) % 10**12}"
    put = await metrics.client.put(
        "/v1/metrics/shares/shr-li/post-ref",
        json={"network": "linkedin", "post_ref": urn},
        headers=metrics.admin(tenant),
    )
    assert put.status_code == 200, put.text
    totals = {urn: {"IMPRESSION": 500, "REACTION": 7, "COMMENT": 1, "RESHARE": 0}}
    poller = ConnectorPoller(metrics.pool, connector(fake_linkedin(TOKEN, totals)), interval=60)
    assert await poller.poll_once() >= 4
    await _wait_totals(metrics, tenant, impressions=500, reactions=7)
    totals[urn] |= {"IMPRESSION": 800, "REACTION": 9}
    await poller.poll_once()
    await _wait_totals(metrics, tenant, impressions=800, reactions=9)

    async def emitted() -> bool:
        event = metrics.updates.latest(tenant, "shr-li")
        return event is not None and event.totals.impressions == 800

    await eventually(emitted, what="engagement.updated with the polled totals")
    event = metrics.updates.latest(tenant, "shr-li")
    assert event is not None
    assert (event.totals.reactions, event.totals.comments) == (9, 1)
    assert event.measurement.impressions.value == "reported"


async def _wait_totals(metrics: Metrics, tenant: str, **want: int) -> None:
    async def reached() -> bool:
        row = await metrics.pool.fetchrow(
            "SELECT impressions, reactions FROM shares "
            "WHERE tenant_id = $1 AND share_id = 'shr-li'",
            tenant,
        )
        return row is not None and all(row[k] == v for k, v in want.items())

    await eventually(reached, what=f"share totals {want}")
