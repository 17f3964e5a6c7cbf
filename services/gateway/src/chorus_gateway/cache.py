"""A small in-process TTL cache for hot lookups (verified keys, people's roles, tokens)."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Entries live `ttl` seconds (or until their own deadline); the oldest go first when full."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        deadline, value = found
        if deadline <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return value

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        if self.ttl <= 0 and ttl is None:
            return
        if len(self._entries) >= self.max_entries:
            # dicts keep insertion order: dropping the first half drops the oldest.
            for stale in list(self._entries)[: self.max_entries // 2]:
                del self._entries[stale]
        self._entries[key] = (time.monotonic() + (self.ttl if ttl is None else ttl), value)

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
