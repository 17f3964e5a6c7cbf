"""Opaque keyset cursors for item pages: base64url of the last item's (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from chorus_content.items.repository import Cursor


class InvalidCursor(ValueError):
    pass


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.created_at.isoformat(), cursor.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


def decode_cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        created_at, item_id = json.loads(raw)
        parsed = datetime.fromisoformat(created_at)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor this API returned") from exc
    if parsed.tzinfo is None or not isinstance(item_id, str):
        raise InvalidCursor("not a cursor this API returned")
    return Cursor(parsed, item_id)
