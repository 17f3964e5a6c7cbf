"""SQL of content items and their audit trail (asyncpg; the tenant id is in every WHERE).

Statements are assembled from fixed fragments of this module (column lists,
filter conditions, allow-listed column names); every value is a bind parameter.
"""

# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from chorus_content.guidelines.text import fold, search_tokens
from chorus_content.items.schemas import ContentFields, ContentItem
from chorus_content.items.workflow import LIVE, ContentState, allowed_actions

_COLUMNS = (
    "id, state, version, title, body, link_url, media, category, language, campaign_hashtags, "
    "suggested_captions, required_disclosure, audience, team_ids, publish_at, expires_at, "
    "created_by, created_at, updated_at, approved_by, approved_at, published_at, retired_at"
)
_STAMPS = frozenset(
    {"approved_by", "approved_at", "published_at", "retired_at", "required_disclosure"}
)
_LIVE_STATES = sorted(state.value for state in LIVE)


@dataclass(frozen=True)
class ItemFilters:
    states: Sequence[ContentState] = ()
    category: str | None = None
    language: str | None = None
    team: str | None = None
    """Items visible to this team: audience "all" or the team among the targets."""
    campaign: str | None = None
    """A hashtag, case-folded, with its '#'."""
    text_query: str | None = None
    """A `to_tsquery('simple', ...)` expression over folded title and body."""


@dataclass(frozen=True)
class Audience:
    """Restricts reads to what an advocate may see: live items targeted at them."""

    team_ids: Sequence[str]


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: str


def to_item(row: Mapping[str, Any]) -> ContentItem:
    data = dict(row)
    data["targeting"] = {"audience": data.pop("audience"), "team_ids": data.pop("team_ids")}
    data["allowed_actions"] = allowed_actions(ContentState(data["state"]))
    return ContentItem.model_validate(data)


def _content_values(fields: ContentFields) -> list[Any]:
    return [
        fields.title,
        fields.body,
        fields.link_url,
        [m.model_dump(mode="json", exclude_none=True) for m in fields.media],
        fields.category,
        fields.language,
        fields.campaign_hashtags,
        [fold(tag) for tag in fields.campaign_hashtags],
        {network.value: captions for network, captions in fields.suggested_captions.items()},
        fields.required_disclosure,
        fields.targeting.audience.value,
        fields.targeting.team_ids,
        fields.publish_at,
        fields.expires_at,
        fold(f"{fields.title}\n{fields.body}"),
    ]


class ItemRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def insert(
        self, tenant_id: str, item_id: str, fields: ContentFields, created_by: str
    ) -> ContentItem:
        row = await self.conn.fetchrow(
            "INSERT INTO items (tenant_id, id, state, created_by, title, body, link_url, media, "
            "category, language, campaign_hashtags, campaign_keys, suggested_captions, "
            "required_disclosure, audience, team_ids, publish_at, expires_at, search) "
            "VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
            f"$16, $17, to_tsvector('simple', $18)) RETURNING {_COLUMNS}",
            tenant_id,
            item_id,
            created_by,
            *_content_values(fields),
        )
        return to_item(row)

    async def update_content(
        self, tenant_id: str, item_id: str, fields: ContentFields
    ) -> ContentItem:
        row = await self.conn.fetchrow(
            "UPDATE items SET title = $3, body = $4, link_url = $5, media = $6, category = $7, "
            "language = $8, campaign_hashtags = $9, campaign_keys = $10, "
            "suggested_captions = $11, required_disclosure = $12, audience = $13, "
            "team_ids = $14, publish_at = $15, expires_at = $16, "
            "search = to_tsvector('simple', $17), version = version + 1, "
            "updated_at = clock_timestamp() "
            f"WHERE tenant_id = $1 AND id = $2 RETURNING {_COLUMNS}",
            tenant_id,
            item_id,
            *_content_values(fields),
        )
        return to_item(row)

    async def get(
        self,
        tenant_id: str,
        item_id: str,
        *,
        audience: Audience | None = None,
        for_update: bool = False,
    ) -> ContentItem | None:
        sql = f"SELECT {_COLUMNS} FROM items WHERE tenant_id = $1 AND id = $2"
        args: list[Any] = [tenant_id, item_id]
        if audience is not None:
            sql += " AND " + _audience_clause(args, audience)
        if for_update:
            sql += " FOR UPDATE"
        row = await self.conn.fetchrow(sql, *args)
        return to_item(row) if row is not None else None

    async def page(
        self,
        tenant_id: str,
        filters: ItemFilters,
        *,
        audience: Audience | None,
        after: Cursor | None,
        limit: int,
    ) -> list[ContentItem]:
        """Up to `limit` items, newest first, strictly after `after` in that order."""
        args: list[Any] = [tenant_id]
        where = ["tenant_id = $1"]

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if len(filters.states) == 1:
            # Plain equality lets the (tenant, state, created_at, id) index return rows
            # already in page order; "= ANY" of one value makes the planner filter instead.
            where.append(f"state = {arg(filters.states[0].value)}")
        elif filters.states:
            where.append(f"state = ANY({arg([s.value for s in filters.states])}::text[])")
        if filters.category is not None:
            where.append(f"category = {arg(filters.category)}")
        if filters.language is not None:
            where.append(f"language = {arg(filters.language)}")
        if filters.team is not None:
            where.append(f"(audience = 'all' OR team_ids @> ARRAY[{arg(filters.team)}]::text[])")
        if filters.campaign is not None:
            where.append(f"campaign_keys @> ARRAY[{arg(filters.campaign)}]::text[]")
        if filters.text_query is not None:
            where.append(f"search @@ to_tsquery('simple', {arg(filters.text_query)})")
        if audience is not None:
            where.append(_audience_clause(args, audience))
        if after is not None:
            where.append(f"(created_at, id) < ({arg(after.created_at)}, {arg(after.id)})")
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM items WHERE {' AND '.join(where)} "
            f"ORDER BY created_at DESC, id DESC LIMIT {arg(limit)}",
            *args,
        )
        return [to_item(row) for row in rows]

    async def set_state(
        self, tenant_id: str, item_id: str, state: ContentState, **stamps: Any
    ) -> ContentItem:
        """Move an item to `state`, also setting the given columns (approved_by, ...)."""
        allowed = {
            "approved_by",
            "approved_at",
            "published_at",
            "retired_at",
            "required_disclosure",
        }
        if not set(stamps) <= allowed:
            raise ValueError(f"unexpected columns {sorted(set(stamps) - allowed)}")
        names = list(stamps)
        sets = "".join(f", {name} = ${i}" for i, name in enumerate(names, start=4))
        row = await self.conn.fetchrow(
            f"UPDATE items SET state = $3, updated_at = clock_timestamp(){sets} "
            f"WHERE tenant_id = $1 AND id = $2 RETURNING {_COLUMNS}",
            tenant_id,
            item_id,
            state.value,
            *(stamps[name] for name in names),
        )
        return to_item(row)

    async def claim_due_publications(self, limit: int) -> list[tuple[str, ContentItem]]:
        """Approved items whose publish_at passed, locked; rows other replicas hold are skipped."""
        return await self._claim(
            "state = 'approved' AND publish_at <= now() ORDER BY publish_at", limit
        )

    async def claim_due_expiries(self, limit: int) -> list[tuple[str, ContentItem]]:
        return await self._claim(
            "state = 'published' AND expires_at IS NOT NULL AND expires_at <= now() "
            "ORDER BY expires_at",
            limit,
        )

    async def _claim(self, condition: str, limit: int) -> list[tuple[str, ContentItem]]:
        rows = await self.conn.fetch(
            f"SELECT tenant_id, {_COLUMNS} FROM items WHERE {condition} "
            "LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        claimed = []
        for row in rows:
            data = dict(row)
            tenant_id = data.pop("tenant_id")
            claimed.append((tenant_id, to_item(data)))
        return claimed


def prefix_query(text: str) -> str | None:
    """A `to_tsquery('simple', ...)` expression matching items whose title or body has
    words starting with each word of `text` (case-folded); None if `text` has no word.
    Tokens are letters, digits and marks only: nothing tsquery could parse as syntax."""
    tokens = search_tokens(text)
    return " & ".join(f"'{token}':*" for token in tokens) if tokens else None


def _audience_clause(args: list[Any], audience: Audience) -> str:
    args.append(_LIVE_STATES)
    states = f"${len(args)}"
    args.append(list(audience.team_ids))
    teams = f"${len(args)}"
    return f"state = ANY({states}::text[]) AND (audience = 'all' OR team_ids && {teams}::text[])"
