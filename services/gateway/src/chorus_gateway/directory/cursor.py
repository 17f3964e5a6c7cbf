"""Opaque keyset cursors: base64url of `[iso-timestamp, id]`, the sort key of the last row."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from chorus_platform.problems import UnprocessableEntity


class InvalidCursor(UnprocessableEntity):
    type_slug = "invalid-cursor"


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: str


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.created_at.isoformat(), cursor.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(text: str | None) -> Cursor | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        at, key = json.loads(raw)
        parsed = datetime.fromisoformat(at)
    except (ValueError, TypeError, binascii.Error):
        raise InvalidCursor("cursor is not one this API returned", field="cursor") from None
    if parsed.tzinfo is None or not isinstance(key, str):
        raise InvalidCursor("cursor is not one this API returned", field="cursor")
    return Cursor(parsed, key)
