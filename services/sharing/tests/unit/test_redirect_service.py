"""The redirect use case: clicks built without validation still satisfy the contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chorus_events.contracts.clicks import ClickRecorded
from chorus_platform.problems import ProblemError
from chorus_sharing.fingerprint import VisitorHasher
from chorus_sharing.link_cache import LinkCache
from chorus_sharing.redirect import RedirectService, Visitor
from chorus_sharing.repository.links import LinkTarget

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TARGET = LinkTarget("t1", "s-1", "AbCdEf_-1234", "https://example.com/a?utm_source=x")


class Directory:
    async def find(self, code: str) -> LinkTarget | None:
        return TARGET if code == TARGET.code else None


class Recorder:
    def __init__(self) -> None:
        self.clicks: list[ClickRecorded] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def record(self, click: ClickRecorded) -> None:
        self.clicks.append(click)


def _service(recorder: Recorder) -> RedirectService:
    cache = LinkCache(Directory(), size=10, negative_size=10, negative_ttl=30)
    return RedirectService(cache, recorder, VisitorHasher(b"salt"), clock=lambda: NOW)


@pytest.mark.parametrize(
    "visitor",
    [
        Visitor("203.0.113.9", "Mozilla/5.0", "https://www.linkedin.com/"),
        Visitor("2001:db8:abcd:12::1", "x" * 5000, "https://r.example/" + "y" * 5000),
        Visitor("::ffff:192.0.2.1", None, None),
        Visitor("unix-socket", "", ""),
        Visitor(None, None, None),
    ],
)
async def test_every_click_recorded_is_a_valid_contract_event(visitor: Visitor) -> None:
    recorder = Recorder()
    destination = await _service(recorder).follow(TARGET.code, visitor)
    assert destination == TARGET.destination_url
    [click] = recorder.clicks
    # What a consumer does: validate the JSON against the contract.
    assert ClickRecorded.model_validate_json(click.model_dump_json()) == click
    assert (click.tenant_id, click.share_id, click.occurred_at) == ("t1", "s-1", NOW)


async def test_unknown_or_malformed_codes_are_not_found_and_record_nothing() -> None:
    recorder = Recorder()
    for code in ("Unknown_code", "https://evil", "a"):
        with pytest.raises(ProblemError) as caught:
            await _service(recorder).follow(code, Visitor(None, None, None))
        assert caught.value.status == 404
    assert recorder.clicks == []
