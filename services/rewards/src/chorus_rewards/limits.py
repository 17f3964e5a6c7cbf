"""Bounds of stored values, shared by the request schemas and the route parameters.

Without them, an id beyond Postgres' bigint range or text with a NUL byte reaches
the database driver and fails there (a 500); declared in the schemas, it is a 422
problem naming the field, and the OpenAPI document states the limits.
"""

from __future__ import annotations

BIGINT_MAX = 2**63 - 1
"""Ids are `bigserial` columns."""
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""Advocate ids are principal ids (`chorus_platform.identity`): same alphabet and length."""
ID_MAX_LENGTH = 64
TEXT_PATTERN = r"^[^\x00]*$"
"""Postgres text cannot hold NUL."""
HASHTAG_PATTERN = r"^#?[^\s#\x00]+$"
