"""Opaque keyset cursors: base64url of `[iso-timestamp, id]`, the sort key of the last row."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from chorus_platform.problems import UnprocessableEntity


class InvalidCursor(UnprocessableEntity):
    type_slug = "invalid-cursor"


def encode_cursor(at: datetime, key: str) -> str:
    raw = json.dumps([at.isoformat(), key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, key = json.loads(raw)
        parsed = datetime.fromisoformat(at)
    except (ValueError, TypeError, binascii.Error):
        raise InvalidCursor("cursor is not one this API returned", field="cursor") from None
    if parsed.tzinfo is None or not isinstance(key, str):
        raise InvalidCursor("cursor is not one this API returned", field="cursor")
    return parsed, key
