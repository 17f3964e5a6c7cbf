"""Cursors round-trip and a forged one is a clear 422, not a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chorus_platform.problems import ProblemError
from chorus_sharing.pagination import decode_cursor, encode_cursor


def test_cursor_round_trip() -> None:
    at = datetime(2026, 3, 3, 9, 0, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, "c-1")) == (at, "c-1")
    assert decode_cursor(None) is None


@pytest.mark.parametrize("bad", ["not-base64!", "W10", "WyJ4IiwxXQ", "WyIyMDI2LTAxLTAxIiwiYSJd"])
def test_forged_cursors_are_unprocessable(bad: str) -> None:
    with pytest.raises(ProblemError) as caught:
        decode_cursor(bad)
    assert caught.value.status == 422
