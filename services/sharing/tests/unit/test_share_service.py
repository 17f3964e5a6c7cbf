"""ShareService with in-memory fakes: rules an advocate and an admin would recognise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from chorus_events.contracts.base import Network
from chorus_events.contracts.content import Audience
from chorus_platform.identity import Identity, Role
from chorus_platform.problems import ProblemError
from chorus_sharing.domain import DuplicateRule, FeedItem, ShareState, SharingPolicy
from chorus_sharing.errors import GuidelinesUnavailable
from chorus_sharing.scheduling import ScheduledShares
from chorus_sharing.service import ShareRequest, ShareService

ALICE = Identity(tenant_id="t1", principal_id="alice", roles=frozenset({Role.ADVOCATE}),
                 team_ids=frozenset({"sales"}))  # fmt: skip
TOKEN = "alice-token"


async def _share(service: ShareService, caller: Identity = ALICE, **fields: Any) -> Any:
    request = ShareRequest(**{"content_id": "c1", "network": Network.LINKEDIN, **fields})
    return await service.post_share(caller, TOKEN, request)


async def _refusal(service: ShareService, **fields: Any) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        await _share(service, **fields)
    return caught.value


async def test_a_share_posts_now_with_tracked_link_and_one_event(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()
    outcome = await _share(service, caption="Proud of the team!", audience_size=800)
    share = outcome.share
    assert share.state is ShareState.POSTED
    assert share.final_text == "Proud of the team!\n\n#employee #ChorusLaunch"
    assert share.link.url == "https://go.example.com/l/code00000000"
    assert share.link.destination_url == (
        "https://example.com/launch?ref=home&utm_source=linkedin&utm_medium=employee_advocacy"
        f"&utm_campaign=ChorusLaunch&utm_content={share.share_id}"
    )
    [event] = store.events
    assert (event.share_id, event.advocate_id, event.team_ids) == (
        share.share_id,
        "alice",
        ("sales",),
    )
    assert (event.link_code, event.caption, event.scheduled) == (
        "code00000000",
        "Proud of the team!",
        False,
    )


async def test_the_caption_is_checked_with_the_callers_identity(
    service: ShareService, store: Any, checker: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()
    await _share(service, caption="Hello", network=Network.X)
    # The final text is checked: what will be posted, disclosure and hashtags included.
    assert checker.calls == [
        ("Hello\n\n#employee #ChorusLaunch", "product_announcements", Network.X, TOKEN)
    ]


async def test_a_blocked_caption_is_refused_with_its_violations_and_nothing_is_stored(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()
    problem = await _refusal(service, caption="Our confidential roadmap")
    assert (problem.status, problem.type_slug) == (422, "caption-rejected")
    assert problem.extensions["field"] == "caption"
    [violation] = problem.extensions["violations"]
    assert (violation["text"], violation["start"], violation["severity"]) == (
        "confidential",
        4,
        "block",
    )
    assert store.share_rows() == [] and store.events == []


async def test_no_check_means_no_share(
    service: ShareService, store: Any, checker: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()

    async def unreachable(**_: Any) -> Any:
        raise GuidelinesUnavailable("down")

    checker.check = unreachable
    problem = await _refusal(service, caption="Hello")
    assert problem.status == 503
    assert store.share_rows() == []


async def test_the_daily_cap_refuses_the_next_share_until_the_next_utc_day(
    service: ShareService, store: Any, clock: Any, make_item: Callable[..., FeedItem]
) -> None:
    for n in range(4):
        store.items[("t1", f"c{n}")] = make_item(f"c{n}")
    for n in range(3):  # the default cap of the fixture is 3
        await _share(service, content_id=f"c{n}")
    problem = await _refusal(service, content_id="c3")
    assert (problem.status, problem.type_slug) == (429, "daily-cap-reached")
    assert problem.extensions["resets_at"] == "2026-03-04T00:00:00+00:00"
    clock.advance(timedelta(days=1))
    assert (await _share(service, content_id="c3")).share.state is ShareState.POSTED


async def test_a_tenant_policy_sets_its_own_cap(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.policies["t1"] = SharingPolicy(tenant_id="t1", daily_cap=1)
    store.items[("t1", "c1")] = make_item()
    store.items[("t1", "c2")] = make_item("c2")
    await _share(service)
    assert (await _refusal(service, content_id="c2")).status == 429


async def test_a_scheduled_share_counts_against_the_day_it_posts(
    service: ShareService, store: Any, clock: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.policies["t1"] = SharingPolicy(tenant_id="t1", daily_cap=1)
    store.items[("t1", "c1")] = make_item()
    store.items[("t1", "c2")] = make_item("c2")
    await _share(service, scheduled_at=clock.now + timedelta(days=2))
    assert (await _share(service, content_id="c2")).share.state is ShareState.POSTED


async def test_the_identical_share_is_refused_but_a_new_caption_is_not(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()
    first = await _share(service, caption="Great  news")
    problem = await _refusal(service, caption="great news ")
    assert (problem.status, problem.type_slug) == (409, "duplicate-share")
    assert problem.extensions["existing_share_id"] == first.share.share_id
    await _share(service, caption="Great news, again")
    await _share(service, caption="Great news", network=Network.X)


async def test_same_network_rule_refuses_any_second_share(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.policies["t1"] = SharingPolicy(
        tenant_id="t1", daily_cap=10, duplicate_rule=DuplicateRule.SAME_NETWORK
    )
    store.items[("t1", "c1")] = make_item()
    await _share(service, caption="One")
    assert (await _refusal(service, caption="Two")).type_slug == "duplicate-share"


async def test_a_refused_duplicate_does_not_use_up_the_cap(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()
    await _share(service)
    for _ in range(3):
        await _refusal(service)
    assert list(store.state.counts.values()) == [1]


async def test_content_of_other_teams_or_tenants_is_not_found(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item(audience=Audience.TEAMS, team_ids=("engineering",))
    store.items[("t2", "c2")] = make_item("c2", tenant_id="t2")
    assert (await _refusal(service)).status == 404
    assert (await _refusal(service, content_id="c2")).status == 404


async def test_retired_or_expired_content_cannot_be_shared(
    service: ShareService, store: Any, clock: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item(retired=True)
    store.items[("t1", "c2")] = make_item("c2", expires_at=clock.now - timedelta(minutes=1))
    store.items[("t1", "c3")] = make_item("c3", expires_at=clock.now + timedelta(hours=1))
    assert (await _refusal(service)).type_slug == "content-not-shareable"
    assert (await _refusal(service, content_id="c2")).type_slug == "content-not-shareable"
    later = clock.now + timedelta(hours=2)
    assert (await _refusal(service, content_id="c3", scheduled_at=later)).status == 409


async def test_x_refuses_a_caption_that_does_not_fit_with_the_link(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item(disclosure=None, hashtags=())
    await _share(service, network=Network.X, caption="a" * 256)  # 256 + space + 23 = 280
    problem = await _refusal(service, network=Network.X, caption="b" * 257)
    assert (problem.status, problem.extensions["over_by"]) == (422, 1)


async def test_content_without_link_uses_the_tenant_default_or_is_refused(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item(link_url=None)
    assert (await _refusal(service)).type_slug == "content-has-no-link"
    store.policies["t1"] = SharingPolicy(
        tenant_id="t1", daily_cap=5, default_link_url="https://example.com/careers"
    )
    share = (await _share(service)).share
    assert share.link.destination_url.startswith("https://example.com/careers?utm_source=")


async def test_without_caption_the_suggested_caption_for_the_network_is_used_unchecked(
    service: ShareService, store: Any, checker: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()
    x_share = (await _share(service, network=Network.X)).share
    linkedin_share = (await _share(service)).share
    assert x_share.final_text == "Chorus 2.0 is here\n\n#employee #ChorusLaunch"
    assert linkedin_share.final_text == "Chorus 2.0 is out\n\n#employee #ChorusLaunch"
    assert x_share.caption is None and checker.calls == []


async def test_scheduled_shares_post_once_when_due_and_cancel_if_retired(
    service: ShareService,
    scheduled: ScheduledShares,
    store: Any,
    clock: Any,
    make_item: Callable[..., FeedItem],
) -> None:
    store.items[("t1", "c1")] = make_item()
    store.items[("t1", "c2")] = make_item("c2")
    kept = (await _share(service, scheduled_at=clock.now + timedelta(hours=1))).share
    await _share(service, content_id="c2", scheduled_at=clock.now + timedelta(hours=1))
    assert kept.state is ShareState.SCHEDULED and store.events == []
    assert (await scheduled.publish_due(10)).handled == 0
    store.items[("t1", "c2")] = make_item("c2", retired=True)
    clock.advance(timedelta(hours=1))
    result = await scheduled.publish_due(10)
    assert (result.posted, result.cancelled) == (1, 1)
    assert (await scheduled.publish_due(10)).handled == 0
    [event] = store.events
    assert (event.share_id, event.scheduled, event.posted_at) == (kept.share_id, True, clock.now)
    states = {s.content_id: s.state for s in store.share_rows()}
    assert states == {"c1": ShareState.POSTED, "c2": ShareState.CANCELLED}


async def test_ids_that_cannot_travel_in_events_are_refused_up_front(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    store.items[("t1", "c1")] = make_item()
    odd = Identity(tenant_id="t1", principal_id="u42", roles=frozenset({Role.ADVOCATE}),
                   team_ids=frozenset({"dept:sales"}))  # fmt: skip
    assert (await _refusal(service, caller=odd)).status == 422


async def test_shares_and_refusals_are_counted_for_operators(
    service: ShareService, store: Any, make_item: Callable[..., FeedItem]
) -> None:
    from chorus_sharing.metrics import SHARES, SHARES_REFUSED

    store.items[("t1", "c1")] = make_item()
    posted = SHARES.labels("linkedin", "posted")
    refused = SHARES_REFUSED.labels("caption-rejected")
    posted_before, refused_before = posted._value.get(), refused._value.get()
    await _share(service, caption="Proud of the team!")
    await _refusal(service, caption="Our confidential roadmap", network=Network.X)
    assert posted._value.get() == posted_before + 1
    assert refused._value.get() == refused_before + 1
