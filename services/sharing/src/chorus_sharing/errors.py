"""Business errors of the sharing service, each carrying its HTTP status (problem+json)."""

from __future__ import annotations

from chorus_platform.problems import Conflict, NotFound, ProblemError, UnprocessableEntity


class FeedItemNotFound(NotFound):
    type_slug = "content-not-found"


class ShareNotFound(NotFound):
    type_slug = "share-not-found"


class ContentNotShareable(Conflict):
    """Known and visible, but retired, expired or not yet published."""

    type_slug, title = "content-not-shareable", "Content not shareable"


class ContentHasNoLink(Conflict):
    type_slug, title = "content-has-no-link", "Nothing to link to"


class DuplicateShare(Conflict):
    type_slug, title = "duplicate-share", "Duplicate share"


class DailyCapReached(ProblemError):
    """429: the advocate's quota for the day is used up; it resets at the next UTC midnight."""

    status, type_slug, title = 429, "daily-cap-reached", "Daily share limit reached"


class CaptionRejected(UnprocessableEntity):
    """The caption breaks the tenant's guidelines (violations in the extension)."""

    type_slug, title = "caption-rejected", "Caption breaks the guidelines"


class CaptionTooLong(UnprocessableEntity):
    type_slug, title = "caption-too-long", "Caption too long for the network"


class InvalidShareRequest(UnprocessableEntity):
    type_slug = "invalid-share"


class GuidelinesUnavailable(ProblemError):
    """503: captions are never posted unchecked, so no check means no share."""

    status, type_slug, title = 503, "guidelines-unavailable", "Guidelines check unavailable"


class ClickNotRecorded(ProblemError):
    """503 instead of a redirect whose click could not be made durable."""

    status, type_slug, title = 503, "click-not-recorded", "Click could not be recorded"


class ConnectorFailed(ProblemError):
    status, type_slug, title = 502, "network-post-failed", "The network refused the post"


class ConnectorUnavailable(Conflict):
    type_slug, title = "connector-unavailable", "Posting through the API is not available"
