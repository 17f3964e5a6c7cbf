"""Rows → domain objects (the only place that knows column names besides the SQL)."""

from __future__ import annotations

from typing import Any

import asyncpg
from chorus_events.contracts.base import Network
from chorus_events.contracts.content import Audience

from chorus_sharing.domain import (
    DuplicateRule,
    FeedItem,
    PostVia,
    Share,
    ShareState,
    SharingPolicy,
    TrackedLink,
)

FEED_COLUMNS = (
    "f.tenant_id, f.content_id, f.version, f.title, f.body, f.link_url, f.media, f.category, "
    "f.language, f.campaign_hashtags, f.suggested_captions, f.required_disclosure, f.audience, "
    "f.team_ids, f.publish_at, f.expires_at, f.approved_at"
)
# An item is retired while a retirement at or after its (latest) approval exists.
RETIRED = (
    "EXISTS (SELECT 1 FROM content_retirements r WHERE r.tenant_id = f.tenant_id "
    "AND r.content_id = f.content_id AND r.retired_at >= f.approved_at)"
)
SHARE_COLUMNS = (
    "tenant_id, share_id, content_id, advocate_id, team_ids, network, via, caption, final_text, "
    "campaign_hashtags, content_title, state, audience_size, link_code, tracked_url, "
    "destination_url, created_at, scheduled_at, posted_at, external_post_id"
)


def feed_item(row: asyncpg.Record) -> FeedItem:
    shared: Any = row.get("shared_networks") or ()
    return FeedItem(
        tenant_id=row["tenant_id"],
        content_id=row["content_id"],
        version=row["version"],
        title=row["title"],
        body=row["body"],
        link_url=row["link_url"],
        media=list(row["media"]),
        category=row["category"],
        language=row["language"],
        campaign_hashtags=tuple(row["campaign_hashtags"]),
        suggested_captions=dict(row["suggested_captions"]),
        required_disclosure=row["required_disclosure"],
        audience=Audience(row["audience"]),
        team_ids=tuple(row["team_ids"]),
        publish_at=row["publish_at"],
        expires_at=row["expires_at"],
        approved_at=row["approved_at"],
        retired=bool(row.get("retired", False)),
        shared_networks=tuple(sorted(Network(n) for n in shared)),
    )


def share(row: asyncpg.Record) -> Share:
    return Share(
        tenant_id=row["tenant_id"],
        share_id=row["share_id"],
        content_id=row["content_id"],
        advocate_id=row["advocate_id"],
        team_ids=tuple(row["team_ids"]),
        network=Network(row["network"]),
        via=PostVia(row["via"]),
        caption=row["caption"],
        final_text=row["final_text"],
        campaign_hashtags=tuple(row["campaign_hashtags"]),
        content_title=row["content_title"],
        state=ShareState(row["state"]),
        audience_size=row["audience_size"],
        link=TrackedLink(row["link_code"], row["tracked_url"], row["destination_url"]),
        created_at=row["created_at"],
        scheduled_at=row["scheduled_at"],
        posted_at=row["posted_at"],
        external_post_id=row["external_post_id"],
    )


def policy(row: asyncpg.Record) -> SharingPolicy:
    return SharingPolicy(
        tenant_id=row["tenant_id"],
        daily_cap=row["daily_cap"],
        duplicate_rule=DuplicateRule(row["duplicate_rule"]),
        default_link_url=row["default_link_url"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )
