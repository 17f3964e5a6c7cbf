"""Event contracts: what a valid event looks like, keys, and the registry."""

from __future__ import annotations

import ipaddress
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from chorus_events.contracts import (
    ALL_SPECS,
    CLICK_RECORDED,
    CONTENT_APPROVED,
    CONTENT_RETIRED,
    DLQ_TOPICS,
    ENGAGEMENT_REPORTED,
    ENGAGEMENT_UPDATED,
    SHARE_POSTED,
    TOPICS,
    ContentApproved,
    EngagementReported,
    EngagementUpdated,
    EventPayload,
    Network,
    SharePosted,
    UnknownEventType,
    spec_for_type,
    specs_for_topic,
)
from chorus_events.contracts.clicks import ClickRecorded
from chorus_events.contracts.examples import EXAMPLES, example_for
from pydantic import BaseModel, ValidationError

pytestmark = pytest.mark.unit


def _with(model: BaseModel, **changes: Any) -> dict[str, Any]:
    """The model's JSON data with some fields changed, ready to validate again."""
    return {**model.model_dump(mode="json"), **changes}


# --- registry -----------------------------------------------------------------


def test_every_spec_is_reachable_by_its_ce_type_and_topic() -> None:
    for spec in ALL_SPECS:
        assert spec_for_type(spec.ce_type) is spec
        assert spec in specs_for_topic(spec.topic)


def test_registered_types_and_topics_are_the_documented_ones() -> None:
    assert {s.ce_type: s.topic for s in ALL_SPECS} == {
        "io.chorus.content.approved.v1": "content.approved",
        "io.chorus.content.retired.v1": "content.retired",
        "io.chorus.share.posted.v1": "share.posted",
        "io.chorus.engagement.updated.v1": "engagement.updated",
        "io.chorus.click.recorded.v1": "clicks.raw",
        "io.chorus.engagement.reported.v1": "engagement.raw",
    }
    assert list(TOPICS) == sorted(TOPICS)
    assert tuple(t + ".dlq" for t in TOPICS) == DLQ_TOPICS


def test_unknown_type_raises_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType):
        spec_for_type("io.chorus.share.posted.v99")
    assert specs_for_topic("no.such.topic") == ()


def test_dlq_topic_is_topic_plus_dlq() -> None:
    assert SHARE_POSTED.dlq_topic == "share.posted.dlq"


def test_every_payload_is_a_tenant_scoped_event_payload() -> None:
    for spec in ALL_SPECS:
        assert issubclass(spec.payload, EventPayload)
        assert "tenant_id" in spec.payload.model_json_schema()["required"]


def test_every_spec_has_a_valid_example() -> None:
    assert set(EXAMPLES) == {s.ce_type for s in ALL_SPECS}
    for spec in ALL_SPECS:
        example = example_for(spec)
        assert spec.payload.model_validate_json(example.model_dump_json()) == example


# --- keys: tenant plus the entity that needs ordering ------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (CONTENT_APPROVED, "acme:cnt-42"),
        (CONTENT_RETIRED, "acme:cnt-42"),
        (SHARE_POSTED, "acme:adv-17"),
        (ENGAGEMENT_UPDATED, "acme:adv-17"),
        (CLICK_RECORDED, "acme:shr-1001"),
        (ENGAGEMENT_REPORTED, "acme:shr-1001"),
    ],
    ids=lambda v: getattr(v, "ce_type", v),
)
def test_key_is_tenant_and_ordering_entity(spec: Any, expected: str) -> None:
    assert spec.key(example_for(spec)) == expected


def test_engagement_reported_without_share_is_keyed_by_network_post() -> None:
    report = EngagementReported.model_validate(
        _with(example_for(ENGAGEMENT_REPORTED), share_id=None, network_post_ref="urn:li:share:9")
    )
    assert ENGAGEMENT_REPORTED.key(report) == "acme:linkedin:urn:li:share:9"


def test_ids_with_a_colon_are_rejected_so_keys_cannot_collide() -> None:
    with pytest.raises(ValidationError):
        SharePosted.model_validate(_with(example_for(SHARE_POSTED), tenant_id="acme:adv"))
    with pytest.raises(ValidationError):
        SharePosted.model_validate(_with(example_for(SHARE_POSTED), advocate_id="a:b"))


# --- field rules ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["tenant_id", "share_id", "content_id", "advocate_id"])
def test_empty_ids_are_rejected(field: str) -> None:
    with pytest.raises(ValidationError):
        SharePosted.model_validate(_with(example_for(SHARE_POSTED), **{field: ""}))


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        SharePosted.model_validate(
            _with(example_for(SHARE_POSTED), posted_at="2025-03-03T09:15:00")
        )


@pytest.mark.parametrize("tag", ["Chorus2", "#", "#two words", "##double"])
def test_hashtags_need_one_leading_hash_and_no_spaces(tag: str) -> None:
    with pytest.raises(ValidationError):
        SharePosted.model_validate(_with(example_for(SHARE_POSTED), campaign_hashtags=[tag]))


def test_unicode_hashtags_are_allowed() -> None:
    share = SharePosted.model_validate(
        _with(example_for(SHARE_POSTED), campaign_hashtags=["#Größe", "#日本"])
    )
    assert share.campaign_hashtags == ("#Größe", "#日本")


def test_network_is_one_of_the_supported_networks() -> None:
    assert {n.value for n in Network} == {"linkedin", "x", "facebook", "instagram", "xing", "email"}
    with pytest.raises(ValidationError):
        SharePosted.model_validate(_with(example_for(SHARE_POSTED), network="myspace"))


def test_caption_is_optional_but_not_empty_when_given() -> None:
    share = SharePosted.model_validate(_with(example_for(SHARE_POSTED), caption=None))
    assert share.caption is None
    with pytest.raises(ValidationError):
        SharePosted.model_validate(_with(example_for(SHARE_POSTED), caption=""))


def test_payloads_are_frozen() -> None:
    share = example_for(SHARE_POSTED)
    with pytest.raises(ValidationError):
        share.caption = "edited"  # type: ignore[misc]


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    data = _with(example_for(SHARE_POSTED), added_in_v1_1={"anything": 1})
    assert SharePosted.model_validate(data) == example_for(SHARE_POSTED)


def test_content_targeting_all_takes_no_teams_and_teams_needs_some() -> None:
    content = example_for(CONTENT_APPROVED)
    everyone = ContentApproved.model_validate(
        _with(content, targeting={"audience": "all", "team_ids": []})
    )
    assert everyone.targeting.team_ids == ()
    with pytest.raises(ValidationError, match="at least one team"):
        ContentApproved.model_validate(_with(content, targeting={"audience": "teams"}))
    with pytest.raises(ValidationError, match="takes no team ids"):
        ContentApproved.model_validate(
            _with(content, targeting={"audience": "all", "team_ids": ["t1"]})
        )


def test_content_expiry_must_follow_publication() -> None:
    content = example_for(CONTENT_APPROVED)
    with pytest.raises(ValidationError, match="expires_at"):
        ContentApproved.model_validate(_with(content, expires_at=content.publish_at.isoformat()))


def test_content_carries_several_captions_per_network() -> None:
    content = example_for(CONTENT_APPROVED)
    assert len(content.suggested_captions[Network.LINKEDIN]) == 2
    with pytest.raises(ValidationError):
        ContentApproved.model_validate(_with(content, suggested_captions={"linkedin": []}))


def test_engagement_deltas_may_be_negative_but_totals_may_not() -> None:
    update = example_for(ENGAGEMENT_UPDATED)
    deltas = {"clicks": -2, "reactions": 0, "comments": 0, "reshares": 0, "impressions": 0}
    corrected = EngagementUpdated.model_validate(_with(update, deltas=deltas))
    assert corrected.deltas.clicks == -2
    totals = {**update.totals.model_dump(), "clicks": -1}
    with pytest.raises(ValidationError):
        EngagementUpdated.model_validate(_with(update, totals=totals))


def test_engagement_sequence_is_positive_and_window_ordered() -> None:
    update = example_for(ENGAGEMENT_UPDATED)
    with pytest.raises(ValidationError):
        EngagementUpdated.model_validate(_with(update, sequence=0))
    before_start = (update.window_start - timedelta(seconds=1)).isoformat()
    with pytest.raises(ValidationError, match="window_end"):
        EngagementUpdated.model_validate(_with(update, window_end=before_start))


def test_engagement_labels_each_metric() -> None:
    update = example_for(ENGAGEMENT_UPDATED)
    assert update.measurement.clicks == "measured"
    labels = {**update.measurement.model_dump(mode="json"), "impressions": "guessed"}
    with pytest.raises(ValidationError):
        EngagementUpdated.model_validate(_with(update, measurement=labels))


def test_engagement_rejections_are_counted_by_rule() -> None:
    update = example_for(ENGAGEMENT_UPDATED)
    assert update.rejected == {"self_click": 1}
    with pytest.raises(ValidationError):
        EngagementUpdated.model_validate(_with(update, rejected={"bot": -1}))


def test_engagement_report_needs_a_share_or_a_network_post() -> None:
    report = example_for(ENGAGEMENT_REPORTED)
    with pytest.raises(ValidationError, match="share_id or network_post_ref"):
        EngagementReported.model_validate(_with(report, share_id=None))


def test_comment_text_only_with_comments() -> None:
    report = example_for(ENGAGEMENT_REPORTED)
    with pytest.raises(ValidationError, match="comment_text"):
        EngagementReported.model_validate(_with(report, kind="reactions"))


@pytest.mark.parametrize(
    "prefix", ["203.0.113.0/24", "203.0.0.0/16", "2001:db8:1::/48", "2001:db8::/32"]
)
def test_click_accepts_truncated_ip_prefixes(prefix: str) -> None:
    click = ClickRecorded.model_validate(_with(example_for(CLICK_RECORDED), ip_prefix=prefix))
    assert click.ip_prefix == prefix


@pytest.mark.parametrize(
    "raw", ["203.0.113.7", "203.0.113.7/32", "203.0.113.0/25", "2001:db8::1", "203.0.113.7/24"]
)
def test_click_rejects_anything_that_could_be_a_raw_ip(raw: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        ClickRecorded.model_validate(_with(example_for(CLICK_RECORDED), ip_prefix=raw))
    # The validation message must not echo the address (it ends up in DLQ headers).
    messages = " ".join(e["msg"] for e in excinfo.value.errors())
    assert raw not in messages


def test_ipv4_prefixes_are_judged_as_ipaddress_judges_them() -> None:
    # The IPv4 fast path must accept, print and reject exactly what `ipaddress` does.
    rnd = random.Random(7)
    samples = [
        "10.0.0.0/8",
        "0.0.0.0/0",
        "255.255.255.0/24",
        "10.1.2.0/024",
        "10.01.2.0/24",
        "10.1.2.0/",
        "10.1.2/24",
        "10.1.2.0.0/24",
        "256.1.2.0/24",
        "10.1.2.0/33",
        "10.1.2.0/-1",
        "1.2.3.0/24 ",
        "\u0661.2.3.0/24",  # non-ASCII digits
        "10.1.2.0/2\u0664",
        "+1.2.3.0/24",
    ]
    for _ in range(3000):
        octets = [str(rnd.choice([0, 1, 10, 127, 128, 255, rnd.randrange(256)])) for _ in range(4)]
        samples.append(f"{'.'.join(octets)}/{rnd.randrange(0, 34)}")
    for value in samples:
        try:
            network = ipaddress.ip_network(value, strict=True)
            expected: str | None = str(network) if network.prefixlen <= 24 else None
        except ValueError:
            expected = None
        try:
            got: str | None = ClickRecorded.model_validate(
                _with(example_for(CLICK_RECORDED), ip_prefix=value)
            ).ip_prefix
        except ValidationError:
            got = None
        assert got == expected, value


def test_click_id_is_a_uuid() -> None:
    with pytest.raises(ValidationError):
        ClickRecorded.model_validate(_with(example_for(CLICK_RECORDED), click_id="click-1"))


def test_example_times_are_timezone_aware() -> None:
    for example in EXAMPLES.values():
        for value in example.model_dump().values():
            if isinstance(value, datetime):
                assert value.tzinfo is not None
