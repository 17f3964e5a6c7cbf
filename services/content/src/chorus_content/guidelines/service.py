"""Use cases of guidelines: read, replace, and check text against them.

Compiling a 1,000-term policy takes tens of milliseconds, checking a text well
under one: each app instance keeps compiled matchers keyed by (tenant, version).
A check first reads the tenant's current version (a primary-key lookup), so a
PUT served by any replica is in force for the next check on every replica; a
stale entry is simply never asked for again and ages out of the LRU.
"""

from __future__ import annotations

from collections import OrderedDict

from chorus_events.contracts import Network

from chorus_content.db import Tx
from chorus_content.guidelines.matcher import GuidelineMatcher
from chorus_content.guidelines.schemas import CheckResult, GuidelinesIn, GuidelinesOut


class MatcherCache:
    """LRU of compiled matchers by (tenant, version); one per app instance."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, int], GuidelineMatcher] = OrderedDict()

    async def matcher(self, tx: Tx, tenant_id: str) -> GuidelineMatcher:
        version = await tx.guidelines.version(tenant_id)
        key = (tenant_id, version)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        document = await tx.guidelines.get(tenant_id)
        # Two requests may both miss and compile: harmless, the result is the same.
        matcher = GuidelineMatcher(
            GuidelinesIn.model_validate(document.model_dump(include={"policy", "style"}))
        )
        self._entries[(tenant_id, document.version)] = matcher
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return matcher


async def check_text(
    tx: Tx,
    cache: MatcherCache,
    tenant_id: str,
    text: str,
    *,
    category: str | None,
    network: Network | None,
) -> CheckResult:
    matcher = await cache.matcher(tx, tenant_id)
    return matcher.check(text, category=category, network=network)


async def replace_guidelines(
    tx: Tx, tenant_id: str, document: GuidelinesIn, updated_by: str
) -> GuidelinesOut:
    return await tx.guidelines.put(tenant_id, document, updated_by)
