"""Use case: follow a tracked link — record the click durably, then redirect.

The destination comes only from the stored link: nothing in the request (query
string, headers) can influence where the visitor is sent, so the redirect
cannot be turned into an open redirect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chorus_events.contracts.clicks import ClickRecorded
from chorus_platform.problems import NotFound

from chorus_sharing.clicks import ClickRecorder
from chorus_sharing.fingerprint import VisitorHasher, ip_prefix
from chorus_sharing.link_cache import LinkCache
from chorus_sharing.links import is_link_code
from chorus_sharing.repository.links import LinkTarget

MAX_USER_AGENT = 1024
MAX_REFERRER = 2048


class LinkNotFound(NotFound):
    type_slug = "link-not-found"


@dataclass(frozen=True)
class Visitor:
    ip: str | None
    user_agent: str | None
    referrer: str | None


class RedirectService:
    def __init__(
        self,
        links: LinkCache,
        recorder: ClickRecorder,
        hasher: VisitorHasher,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.links = links
        self.recorder = recorder
        self.hasher = hasher
        self.clock = clock

    async def destination(self, code: str) -> str:
        """Where `code` leads, recording nothing (a HEAD request is not a click)."""
        return (await self._target(code)).destination_url

    async def follow(self, code: str, visitor: Visitor) -> str:
        """The destination of `code`, after its click is durable; `LinkNotFound` if unknown."""
        target = await self._target(code)
        # model_construct: every field is built here from values that already meet
        # the contract (ids from our own rows, a code-shaped code, a hex HMAC, a
        # prefix from `ip_prefix`, truncated texts); validating them again would
        # cost more than the rest of the click. A unit test checks the invariant.
        click = ClickRecorded.model_construct(
            tenant_id=target.tenant_id,
            click_id=uuid.uuid4(),
            link_code=target.code,
            share_id=target.share_id,
            occurred_at=self.clock(),
            visitor_hash=self.hasher.visitor_hash(target.tenant_id, visitor.ip, visitor.user_agent),
            user_agent=visitor.user_agent[:MAX_USER_AGENT] if visitor.user_agent else None,
            ip_prefix=ip_prefix(visitor.ip),
            referrer=visitor.referrer[:MAX_REFERRER] if visitor.referrer else None,
        )
        await self.recorder.record(click)
        return target.destination_url

    async def _target(self, code: str) -> LinkTarget:
        target = await self.links.resolve(code) if is_link_code(code) else None
        if target is None:
            raise LinkNotFound("no such link")
        return target
