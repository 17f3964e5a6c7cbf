"""Path and query parameter types shared by the routes, bounded like the columns behind them
(see `limits`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from chorus_rewards.limits import BIGINT_MAX, ID_MAX_LENGTH, ID_PATTERN

RowId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
AdvocatePath = Annotated[str, Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
AdvocateQuery = Annotated[
    str | None, Query(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)
]
BeforeId = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]
