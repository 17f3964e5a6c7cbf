"""Postgres array literals, to pass one array per row through `unnest($n::text[])`.

`unnest` of a multi-dimensional array flattens it, and rows' arrays differ in
length, so each row's array travels as its text literal and is cast in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


def text_array(values: Iterable[str]) -> str:
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


@lru_cache(maxsize=4096)
def text_array_of(values: tuple[str, ...]) -> str:
    """`text_array`, remembered: entries repeat a few team and hashtag combinations."""
    return text_array(values)


def int_array(values: Iterable[int | None]) -> str:
    if not isinstance(values, list | tuple) or None in values:
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"
