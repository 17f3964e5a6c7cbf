"""A batch's rows as ONE JSON parameter, unpacked by Postgres with `jsonb_array_elements`.

asyncpg encodes typed arrays element by element (an ABC `isinstance` check and a
codec call per element): with ~15 rows of several columns per event that was the
largest single cost of the consumer. orjson encodes a list of tuples in C (a
ledger row in ~1 µs, the standard library's encoder takes ~11), and Postgres
reads each column with `r->>i` and a cast.

Conventions for statements that take `rows(...)`: the FROM item is
`jsonb_array_elements($1::text::jsonb) AS r` (`text`, not `jsonb`: the pool's jsonb
codec would encode the string again; written out, not formatted in), each row is
a JSON array in column order, NULL is `null`, aware datetimes become RFC 3339 with
their offset (exact to the microsecond; cast with `::timestamptz`), text arrays
travel as Postgres array literals (e.g. rewards' `repository/arrays.text_array`, cast
with `::text[]`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson


def rows(values: Iterable[Sequence[Any]]) -> str:
    """The JSON text of `values` (tuples or lists of str, int, bool, None, dict, datetime)."""
    return orjson.dumps(values if isinstance(values, list) else list(values)).decode()
