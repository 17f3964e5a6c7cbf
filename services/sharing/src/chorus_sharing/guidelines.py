"""Caption checks against the tenant's guidelines, by calling the content service.

Why a call and not a local copy kept fresh by events: see README ("Caption
checks"). In short, the content service owns the rules *and* the matching logic
(brand spellings, blocked terms, disclosures); a copy would duplicate that logic
and lag behind a guideline edit, while a share is a low-rate, human-paced action
that can afford one loopback call.
"""

from __future__ import annotations

import logging
from typing import Literal, Protocol

import httpx
from chorus_events.contracts.base import Network
from chorus_platform.identity import IDENTITY_HEADER
from opentelemetry import propagate
from pydantic import BaseModel, ConfigDict, ValidationError

from chorus_sharing.errors import GuidelinesUnavailable

log = logging.getLogger(__name__)
CHECK_PATH = "/v1/content/guidelines/check"


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: str
    severity: Literal["block", "warn"]
    start: int
    end: int
    text: str
    message: str
    suggestion: str | None = None


class GuidelineVerdict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    ok: bool
    violations: tuple[Violation, ...] = ()

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "warn")


class GuidelineChecker(Protocol):
    """Port: judge a caption for a tenant (the caller's identity token says which)."""

    async def check(
        self, *, text: str, category: str, network: Network, caller_token: str
    ) -> GuidelineVerdict: ...


class HttpGuidelineChecker:
    """`POST {content_url}/v1/content/guidelines/check`, forwarding the caller's identity."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @staticmethod
    def _headers(caller_token: str) -> dict[str, str]:
        # The check is part of the share request's trace: content's span joins it.
        headers = {IDENTITY_HEADER: caller_token}
        propagate.inject(headers)
        return headers

    async def check(
        self, *, text: str, category: str, network: Network, caller_token: str
    ) -> GuidelineVerdict:
        try:
            response = await self._client.post(
                CHECK_PATH,
                json={"text": text, "category": category, "network": network.value},
                headers=self._headers(caller_token),
            )
        except httpx.HTTPError as exc:
            log.warning("guidelines check unreachable: %s", type(exc).__name__)
            raise GuidelinesUnavailable("the content service could not be reached") from exc
        if response.status_code != 200:
            log.warning("guidelines check answered %s", response.status_code)
            raise GuidelinesUnavailable(
                f"the content service answered {response.status_code} to the check"
            )
        try:
            return GuidelineVerdict.model_validate_json(response.content)
        except ValidationError as exc:
            raise GuidelinesUnavailable("the content service sent an invalid check result") from exc


def content_client(
    base_url: str, *, connect_timeout: float, read_timeout: float
) -> httpx.AsyncClient:
    """The pooled client for content-service calls (keep-alive, bounded waits)."""
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=10)
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits)
