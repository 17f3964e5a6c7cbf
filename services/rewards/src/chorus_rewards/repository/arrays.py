"""Postgres array literals, to pass one array per row through `unnest($n::text[])`.

`unnest` of a multi-dimensional array flattens it, and rows' arrays differ in
length, so each row's array travels as its text literal and is cast in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable


def text_array(values: Iterable[str]) -> str:
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def int_array(values: Iterable[int | None]) -> str:
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
