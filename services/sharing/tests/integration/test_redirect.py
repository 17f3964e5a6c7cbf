"""The public redirect: only to stored destinations, and never a 302 without its click."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest
from chorus_devstack.apps import serve_app
from chorus_devstack.waiting import eventually
from chorus_events.contracts.registry import CLICK_RECORDED
from chorus_sharing.app import create_app
from chorus_sharing.clicks import click_publisher
from chorus_sharing.fingerprint import VisitorHasher

pytestmark = pytest.mark.integration
CLICK_SALT = "test-click-salt"  # the conftest's
CONCURRENCY = 16


async def _links(tenant: Any, count: int) -> list[dict[str, Any]]:
    """`count` shares (with tracked links) of one approved item, to different networks."""
    await tenant.approve("c1")

    async def in_feed() -> bool:
        return "c1" in await tenant.feed_ids()

    await eventually(in_feed, what="content in the feed")
    links = []
    for n in range(count):
        response = await tenant.share(content_id="c1", network="email", caption=f"Read this {n}")
        assert response.status_code == 201, response.text
        links.append(response.json()["link"])
    return links


async def test_redirects_only_to_the_stored_destination(tenant: Any, client: Any) -> None:
    [link] = await _links(tenant, 1)
    code = link["code"]
    for attempt in (
        f"/l/{code}?next=https://evil.example",
        f"/l/{code}?url=https%3A%2F%2Fevil.example&redirect=//evil.example",
    ):
        response = await client.get(attempt)
        assert response.status_code == 302
        assert response.headers["location"] == link["destination_url"]
        assert response.headers["cache-control"] == "no-store"
    for attempt in (
        "/l/https:%2F%2Fevil.example",
        "/l/%2F%2Fevil.example",
        "//evil.example",
        "/l//evil.example",
        f"/l/{code}/https://evil.example",
        "/l/" + "A" * 40,
        "/l/unknownCode1",
    ):
        response = await client.get(attempt)
        assert response.status_code == 404, attempt
        assert "location" not in response.headers
    unknown = await client.get("/l/unknownCode1")
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"] == "https://chorus.dev/problems/link-not-found"


async def test_a_click_carries_a_fingerprint_but_never_the_ip(
    tenant: Any, client: Any, topic_reader: Any
) -> None:
    [link] = await _links(tenant, 1)
    reader = await topic_reader(CLICK_RECORDED)
    headers = {"user-agent": "Mozilla/5.0 (Test)", "referer": "https://www.linkedin.com/feed/"}
    assert (await client.get(f"/l/{link['code']}", headers=headers)).status_code == 302
    head = await client.head(f"/l/{link['code']}", headers=headers)  # a link checker
    assert (head.status_code, head.headers["location"]) == (302, link["destination_url"])
    [event] = await reader.events(tenant.id)  # one click: HEAD records none
    click = event.payload
    assert (click.link_code, click.user_agent, click.referrer) == (
        link["code"], "Mozilla/5.0 (Test)", "https://www.linkedin.com/feed/",
    )  # fmt: skip
    # httpx's ASGI transport reports the client as 127.0.0.1.
    assert click.ip_prefix == "127.0.0.0/24"
    expected = VisitorHasher(CLICK_SALT.encode()).visitor_hash(
        tenant.id, "127.0.0.1", headers["user-agent"]
    )
    assert click.visitor_hash == expected
    assert (
        "127.0.0.1" not in event.headers.values()
        and b"127.0.0.1" not in click.model_dump_json().encode()
    )
    assert event.id == str(click.click_id)


async def _get_status(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (headers and Content-Length body); return its status."""
    status = int((await reader.readuntil(b"\r\n")).split(b" ", 2)[1])
    length = 0
    for line in (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _hammer(
    port: int, codes: list[str], *, total: int | None, stop: asyncio.Event
) -> tuple[int, int]:
    """GET the links round-robin over CONCURRENCY keep-alive connections (raw sockets:
    cheap enough that the service, not the client, is what runs on the 2 cores).

    Returns (requests sent, 302s received). With `total`, stops after that many
    requests; otherwise runs until `stop` is set or the server goes away.
    """
    sent = redirected = 0

    async def connection() -> None:
        nonlocal sent, redirected
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not stop.is_set() and (total is None or sent < total):
                code = codes[sent % len(codes)]
                sent += 1
                writer.write(f"GET /l/{code} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                try:
                    status = await _get_status(reader)
                except (OSError, asyncio.IncompleteReadError):
                    return  # the server went away under us
                redirected += status == 302
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
    return sent, redirected


@pytest.mark.parametrize(
    ("durability", "sig", "while_in_flight"),
    [
        ("kafka", signal.SIGTERM, False),
        ("kafka", signal.SIGKILL, False),
        ("outbox", signal.SIGKILL, True),
    ],
    ids=["kafka-sigterm-after", "kafka-sigkill-after", "outbox-sigkill-in-flight"],
)
async def test_every_302_is_in_the_click_stream_even_when_the_service_dies(
    tenant: Any,
    sharing_app: Any,
    sharing_process: Any,
    topic_reader: Any,
    durability: str,
    sig: int,
    while_in_flight: bool,
) -> None:
    codes = [link["code"] for link in await _links(tenant, 5)]
    reader = await topic_reader(CLICK_RECORDED)
    service = sharing_process(click_durability=durability)
    await service.start()
    stop = asyncio.Event()
    if while_in_flight:
        # Kill while requests are in flight: some clicks may be recorded whose
        # redirect never left, but no 302 may exist without its click.
        load = asyncio.create_task(_hammer(service.port, codes, total=None, stop=stop))
        await eventually(
            lambda: _clicked(sharing_app, tenant, durability, reader), what="load running"
        )
        await service.stop(sig)
        stop.set()
        sent, redirected = await load
    else:
        sent, redirected = await _hammer(service.port, codes, total=200, stop=stop)
        await service.stop(sig)
    assert redirected > 0
    # Clicks in the outbox (outbox mode, or Kafka fallback) are published by the
    # session app's relay: the dead process shared its database.
    await eventually(lambda: _outbox_drained(sharing_app), what="click outbox drained")
    clicks = {e.payload.click_id for e in await reader.events(tenant.id)}
    if while_in_flight:
        assert redirected <= len(clicks) <= sent
    else:
        assert len(clicks) == redirected == sent


async def _clicked(app: Any, tenant: Any, durability: str, reader: Any) -> bool:
    # Enough load that the kill lands mid-stream: some clicks already durable.
    if durability == "outbox":
        return bool(
            await app.state.ctx.pool.fetchval(
                "SELECT count(*) >= 50 FROM outbox WHERE topic = 'clicks.raw' "
                "AND convert_from(key, 'UTF8') LIKE $1",
                f"{tenant.id}:%",
            )
        )
    return len(await reader.events(tenant.id)) >= 50


async def _outbox_drained(app: Any) -> bool:
    return bool(
        await app.state.ctx.pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL")
    )


async def test_redirects_keep_working_through_the_outbox_when_kafka_fails(
    tenant: Any, make_settings: Any, topic_reader: Any
) -> None:
    [link] = await _links(tenant, 1)
    reader = await topic_reader(CLICK_RECORDED)
    settings = make_settings(consumers_enabled=False, scheduler_enabled=False,
                             click_kafka_timeout=0.5)  # fmt: skip
    app = create_app(settings)
    async with serve_app(app) as other:
        # Clicks (only) see a Kafka that does not answer: port 9 on loopback is closed.
        recorder = app.state.ctx.extras["sharing"].recorder
        recorder.primary.publisher = click_publisher("127.0.0.1:9", "sharing-test")
        responses = [await other.get(f"/l/{link['code']}") for _ in range(3)]
        assert [r.status_code for r in responses] == [302, 302, 302]

        async def arrived() -> bool:
            return len(await reader.events(tenant.id)) == 3

        await eventually(arrived, what="clicks relayed from the outbox")
