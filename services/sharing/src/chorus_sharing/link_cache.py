"""In-process LRU of tracked links in front of Postgres (the redirect's hot path).

A link never changes after it is created (its destination is fixed at share
time), so a cached entry never goes stale and needs no TTL or invalidation
across replicas. Unknown codes are cached too, briefly: a scanner hammering
random codes then costs one query per code per `negative_ttl`, and since codes
are random 72-bit strings, a code that is unknown now is practically never
created later.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from chorus_sharing.metrics import LINK_CACHE
from chorus_sharing.repository.links import LinkTarget

_HIT = LINK_CACHE.labels("hit")
_NEGATIVE_HIT = LINK_CACHE.labels("negative_hit")
_MISS = LINK_CACHE.labels("miss")


class LinkDirectory(Protocol):
    async def find(self, code: str) -> LinkTarget | None: ...


class LinkCache:
    def __init__(
        self,
        directory: LinkDirectory,
        *,
        size: int,
        negative_size: int,
        negative_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.size = size
        self.negative_size = negative_size
        self.negative_ttl = negative_ttl
        self.clock = clock
        self._known: OrderedDict[str, LinkTarget] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()

    async def resolve(self, code: str) -> LinkTarget | None:
        target = self._known.get(code)
        if target is not None:
            self._known.move_to_end(code)
            _HIT.inc()
            return target
        expires = self._unknown.get(code)
        if expires is not None and expires > self.clock():
            _NEGATIVE_HIT.inc()
            return None
        _MISS.inc()
        target = await self.directory.find(code)
        if target is None:
            self._remember_unknown(code)
        else:
            self._unknown.pop(code, None)
            self._known[code] = target
            if len(self._known) > self.size:
                self._known.popitem(last=False)
        return target

    def _remember_unknown(self, code: str) -> None:
        if self.negative_ttl <= 0:
            return
        self._unknown[code] = self.clock() + self.negative_ttl
        self._unknown.move_to_end(code)
        if len(self._unknown) > self.negative_size:
            self._unknown.popitem(last=False)
