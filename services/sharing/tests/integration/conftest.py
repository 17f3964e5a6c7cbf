"""The sharing service on the real engines, with loopback fakes of its HTTP peers.

One sharing app per session (its consumer group is random, so it never shares
partitions with a service started by `make up`); tests isolate themselves by
random tenant ids. The content service's guidelines check and LinkedIn's Posts
API are tiny FastAPI apps served by uvicorn on free loopback ports: real HTTP,
our documented contracts, no import of the content service.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from chorus_devstack.apps import identity_headers, serve_on_loopback, settings_for
from chorus_devstack.fleet import free_port
from chorus_events.bus import KafkaPublisher, ensure_topics
from chorus_events.contracts.content import ContentApproved, ContentRetired, Targeting
from chorus_events.contracts.registry import CONTENT_APPROVED, CONTENT_RETIRED, EventSpec
from chorus_events.envelope import Envelope, decode, encode
from chorus_platform.identity import Role, verify_internal_token
from chorus_sharing.app import create_app
from chorus_sharing.settings import SharingSettings
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

CLICK_SALT = "test-click-salt"


def guidelines_app(secret: str) -> FastAPI:
    """The content service's check contract: "confidential" blocks, "awesome" warns."""
    app = FastAPI()

    @app.post("/v1/content/guidelines/check")
    async def check(request: Request) -> Response:
        try:
            verify_internal_token(request.headers.get("x-chorus-identity", ""), secret)
        except Exception:
            return JSONResponse({"title": "Unauthorized"}, status_code=401)
        body = await request.json()
        text: str = body["text"]
        violations = []
        for word, severity, suggestion in (
            ("confidential", "block", None),
            ("awesome", "warn", "great"),
        ):
            at = text.lower().find(word)
            if at >= 0:
                violations.append({
                    "kind": "blocked_term" if severity == "block" else "style",
                    "severity": severity, "start": at, "end": at + len(word), "text": word,
                    "message": f"avoid '{word}'", "suggestion": suggestion,
                })  # fmt: skip
        ok = not any(v["severity"] == "block" for v in violations)
        return JSONResponse({"ok": ok, "violations": violations})

    return app


@pytest.fixture(scope="session")
async def content_url(internal_token_secret: str) -> AsyncIterator[str]:
    async with serve_on_loopback(guidelines_app(internal_token_secret), lifespan="off") as url:
        yield url


SettingsFactory = Callable[..., SharingSettings]


@pytest.fixture(scope="session")
def make_settings(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, internal_token_secret: str
) -> SettingsFactory:
    def build(**overrides: Any) -> SharingSettings:
        values: dict[str, Any] = {
            "click_salt": CLICK_SALT,
            "scheduler_interval": 0.1,
            "scheduler_batch": 5,
            "public_link_base": "https://go.example.com",
            **overrides,
        }
        return settings_for(
            SharingSettings,
            database_url=postgres_dsn,
            kafka_bootstrap=kafka_bootstrap,
            redis_url=redis_url,
            internal_token_secret=internal_token_secret,
            **values,
        )

    return build


@pytest.fixture(scope="session")
async def sharing_app(make_settings: SettingsFactory, content_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        content_url=content_url,
        consumer_group=f"sharing-content-test-{uuid.uuid4().hex[:8]}",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def client(sharing_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sharing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sharing") as c:
        yield c


@pytest.fixture(scope="session")
async def publisher(kafka_bootstrap: str) -> AsyncIterator[KafkaPublisher]:
    await ensure_topics(kafka_bootstrap, [CONTENT_APPROVED.topic, CONTENT_RETIRED.topic], 3)
    pub = KafkaPublisher(kafka_bootstrap, "sharing-tests")
    yield pub
    await pub.stop()


class Tenant:
    """A random tenant with helpers to publish its content and call the service as its people."""

    def __init__(self, client: httpx.AsyncClient, publisher: KafkaPublisher, secret: str) -> None:
        self.id = f"t-{uuid.uuid4().hex[:12]}"
        self.client = client
        self.publisher = publisher
        self.secret = secret

    def headers(
        self,
        who: str = "alice",
        *,
        teams: tuple[str, ...] = ("sales",),
        roles: tuple[Role, ...] = (Role.ADVOCATE,),
    ) -> dict[str, str]:
        return identity_headers(self.secret, self.id, who, roles, team_ids=teams)

    def admin(self) -> dict[str, str]:
        return self.headers("boss", teams=(), roles=(Role.ADMIN,))

    async def approve(self, content_id: str, *, version: int = 1, **fields: Any) -> ContentApproved:
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "tenant_id": self.id, "content_id": content_id, "version": version,
            "title": f"Title of {content_id} v{version}", "body": "Body",
            "link_url": "https://example.com/news?ref=feed", "category": "product_announcements",
            "language": "en", "campaign_hashtags": ("#ChorusLaunch",),
            "suggested_captions": {"linkedin": ["We launched!"]},
            "required_disclosure": "#employee", "targeting": Targeting(audience="all"),
            "publish_at": now - timedelta(minutes=5), "approved_by": "approver-1",
            "approved_at": now, **fields,
        }  # fmt: skip
        payload = ContentApproved(**values)
        await self.publisher.publish([encode(CONTENT_APPROVED, payload, source="/chorus/content")])
        return payload

    async def retire(self, content_id: str, reason: str = "withdrawn") -> None:
        payload = ContentRetired(
            tenant_id=self.id, content_id=content_id, reason=reason, retired_at=datetime.now(UTC)
        )
        await self.publisher.publish([encode(CONTENT_RETIRED, payload, source="/chorus/content")])

    async def feed(
        self, who: str = "alice", teams: tuple[str, ...] = ("sales",), **params: Any
    ) -> dict[str, Any]:
        response = await self.client.get(
            "/v1/feed", params=params, headers=self.headers(who, teams=teams)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def feed_ids(
        self, who: str = "alice", teams: tuple[str, ...] = ("sales",), **params: Any
    ) -> list[str]:
        return [i["content_id"] for i in (await self.feed(who, teams, **params))["items"]]

    async def share(
        self, who: str = "alice", teams: tuple[str, ...] = ("sales",), **body: Any
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/shares", json=body, headers=self.headers(who, teams=teams)
        )


@pytest.fixture
def tenant(
    client: httpx.AsyncClient, publisher: KafkaPublisher, internal_token_secret: str
) -> Tenant:
    return Tenant(client, publisher, internal_token_secret)


class TopicReader:
    """Reads one topic from the offsets it had when created: only this test's era."""

    def __init__(self, bootstrap: str, spec: EventSpec[Any]) -> None:
        self.bootstrap = bootstrap
        self.spec = spec
        self._start: dict[TopicPartition, int] = {}

    async def mark(self) -> TopicReader:
        await ensure_topics(self.bootstrap, [self.spec.topic], 3)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = await _partitions(self.bootstrap, self.spec.topic)
            self._start = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        return self

    async def events(self, tenant_id: str) -> list[Envelope[Any]]:
        """Every event of `tenant_id` written since `mark()`, in partition order."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        found: list[Envelope[Any]] = []
        try:
            ends = await consumer.end_offsets(list(self._start))
            consumer.assign(list(self._start))
            for tp, offset in self._start.items():
                consumer.seek(tp, offset)
            pending = {tp for tp in self._start if ends[tp] > self._start[tp]}
            while pending:
                batch = await consumer.getmany(timeout_ms=1000)
                for tp, records in batch.items():
                    for r in records:
                        if r.offset < ends[tp]:
                            env = decode(
                                r.topic, r.key, r.value, r.headers, {self.spec.ce_type: self.spec}
                            )
                            if env.payload.tenant_id == tenant_id:
                                found.append(env)
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
        finally:
            await consumer.stop()
        return found


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        found = await producer.partitions_for(topic)
    finally:
        await producer.stop()
    return [TopicPartition(topic, p) for p in sorted(found)]


ReaderFactory = Callable[[EventSpec[Any]], Awaitable[TopicReader]]


@pytest.fixture
def topic_reader(kafka_bootstrap: str) -> ReaderFactory:
    async def make(spec: EventSpec[Any]) -> TopicReader:
        return await TopicReader(kafka_bootstrap, spec).mark()

    return make


class ServiceProcess:
    """The sharing service as a real uvicorn process on a free loopback port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, within: float = 30.0) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uvicorn", "chorus_sharing.app:app",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning", "--no-access-log",
            env=self.env,
        )  # fmt: skip
        deadline = asyncio.get_running_loop().time() + within
        async with httpx.AsyncClient(base_url=self.url) as probe:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(f"sharing exited with {self.proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/healthz")).status_code == 200:
                        return
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError("sharing did not start")
                await asyncio.sleep(0.1)

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), 30)


ProcessFactory = Callable[..., ServiceProcess]


@pytest.fixture
async def sharing_process(
    postgres_dsn: str, kafka_bootstrap: str, redis_url: str, internal_token_secret: str
) -> AsyncIterator[ProcessFactory]:
    started: list[ServiceProcess] = []

    def make(**settings: str) -> ServiceProcess:
        env = {
            **os.environ,
            "CHORUS_DATABASE_URL": postgres_dsn,
            "CHORUS_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "CHORUS_REDIS_URL": redis_url,
            "CHORUS_INTERNAL_TOKEN_SECRET": internal_token_secret,
            "CHORUS_LOG_LEVEL": "WARNING",
            "CHORUS_SHARING_CLICK_SALT": CLICK_SALT,
            # Only the redirect is under test here: the session app does the rest.
            "CHORUS_SHARING_CONSUMERS_ENABLED": "false",
            "CHORUS_SHARING_OUTBOX_RELAY_ENABLED": "false",
            "CHORUS_SHARING_SCHEDULER_ENABLED": "false",
            **{f"CHORUS_SHARING_{k.upper()}": v for k, v in settings.items()},
        }
        process = ServiceProcess(env)
        started.append(process)
        return process

    yield make
    for process in started:
        if process.proc is not None and process.proc.returncode is None:
            await process.stop(signal.SIGKILL)


@pytest.fixture(scope="session")
def loopback() -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[str]]:
    """`async with loopback(app) as url`: serve a fake HTTP peer on a free loopback port."""
    return functools.partial(serve_on_loopback, lifespan="off")
