"""The feed read model's consumer: `content.approved` and `content.retired`.

Effectively once by construction: the consumer runner records event ids in the
same transaction as these writes, and the writes themselves are idempotent and
order-insensitive (highest version wins; latest retirement wins), so a replay
or an out-of-order delivery converges to the same feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from chorus_events.consumer import AfterCommit
from chorus_events.contracts.content import ContentApproved, ContentRetired
from chorus_events.contracts.registry import CONTENT_APPROVED, CONTENT_RETIRED
from chorus_events.envelope import Envelope

from chorus_sharing.repository.feed_model import record_retired, upsert_approved

GROUP = "sharing-content"
SPECS = (CONTENT_APPROVED, CONTENT_RETIRED)


async def apply_content_events(
    batch: Sequence[Envelope[Any]], conn: asyncpg.Connection
) -> AfterCommit | None:
    approved: list[ContentApproved] = []
    retired: list[ContentRetired] = []
    for envelope in batch:
        if envelope.spec == CONTENT_APPROVED:
            approved.append(envelope.narrow(CONTENT_APPROVED).payload)
        else:
            retired.append(envelope.narrow(CONTENT_RETIRED).payload)
    await upsert_approved(conn, approved)
    await record_retired(conn, retired)
    return None
