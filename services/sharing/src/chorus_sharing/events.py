"""Building the events sharing produces (payload models live in chorus_events.contracts)."""

from __future__ import annotations

from chorus_events.contracts.base import Id
from chorus_events.contracts.sharing import SharePosted
from chorus_platform.identity import Identity
from pydantic import TypeAdapter, ValidationError

from chorus_sharing.domain import Share

_ID = TypeAdapter(Id)
# SharePosted.team_ids holds at most this many ids (TeamIds in the contract).
MAX_EVENT_TEAMS = 500


def valid_event_ids(caller: Identity) -> bool:
    """Whether the caller's ids fit the contract's `Id` (no ':'; 64 chars at most).

    Checked when the share is requested, so a share never commits with an event
    that could not be built (a scheduled one is built later, by the scheduler).
    """
    if len(caller.team_ids) > MAX_EVENT_TEAMS:
        return False
    try:
        for value in (caller.principal_id, *caller.team_ids):
            _ID.validate_python(value)
    except ValidationError:
        return False
    return True


def share_posted(share: Share, *, scheduled: bool) -> SharePosted:
    assert share.posted_at is not None, "only a posted share has a share.posted event"
    return SharePosted(
        tenant_id=share.tenant_id,
        share_id=share.share_id,
        content_id=share.content_id,
        advocate_id=share.advocate_id,
        team_ids=share.team_ids,
        network=share.network,
        caption=share.caption,
        link_code=share.link.code,
        tracked_url=share.link.url,
        destination_url=share.link.destination_url,
        campaign_hashtags=share.campaign_hashtags,
        posted_at=share.posted_at,
        scheduled=scheduled,
        audience_size=share.audience_size,
    )
