"""The raffle draw: a weighted draw without replacement anyone can recompute.

Commit and reveal: when a raffle opens, Chorus publishes `sha256(seed)` (hex of
the UTF-8 seed); the seed itself is revealed with the draw. Since the seed was
fixed before the entries were known and its hash was public, it cannot have
been chosen to favour anyone; since the algorithm below is deterministic,
anyone holding the seed and the published entries gets the same winners.

Algorithm (version 1), for `winners` draws:

1. Entries are `(advocate_id, weight)` with weight = the advocate's valid shares
   in the campaign; entries of weight 0 are dropped; the rest are sorted by
   advocate id (ids are ASCII, so code point order is byte order).
2. For draw k = 0, 1, ...: let `total` be the sum of the remaining weights. Take
   `x = int(sha256(f"{seed}:{k}:{attempt}").hexdigest(), 16)` for attempt
   0, 1, ... until `x < 2**256 - 2**256 % total` (rejection sampling: no modulo
   bias), and let `r = x % total`.
3. Walk the remaining entries in order accumulating weights; the first entry
   whose running sum exceeds `r` wins draw k and leaves the pool.
4. Stop after `winners` draws or when the pool is empty.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ALGORITHM = "chorus-raffle-v1"
_SPACE = 1 << 256


def seed_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def uniform(seed: str, draw: int, total: int) -> int:
    """An unbiased integer in [0, total) derived from the seed and the draw number."""
    if total <= 0:
        raise ValueError("total weight must be positive")
    limit = _SPACE - _SPACE % total
    attempt = 0
    while True:
        x = int(hashlib.sha256(f"{seed}:{draw}:{attempt}".encode()).hexdigest(), 16)
        if x < limit:
            return x % total
        attempt += 1


def normalise(entries: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted((advocate, weight) for advocate, weight in entries if weight > 0)


def draw(seed: str, entries: Iterable[tuple[str, int]], winners: int) -> list[str]:
    """The winners, as steps 1-4 above define them.

    Step 3's walk costs O(entries) per draw; a Fenwick tree over the sorted pool
    (a drawn entry's weight set to 0) finds the same entry, the first whose running
    sum over the remaining entries exceeds `r`, in O(log entries): a raffle with
    100,000 entries and 1,000 winners takes milliseconds instead of minutes.
    """
    pool = normalise(entries)
    tree = _PrefixSums([weight for _, weight in pool])
    total = tree.total
    chosen: list[str] = []
    for k in range(min(winners, len(pool))):
        i = tree.first_exceeding(uniform(seed, k, total))
        advocate, weight = pool[i]
        chosen.append(advocate)
        tree.add(i, -weight)
        total -= weight
    return chosen


class _PrefixSums:
    """A Fenwick (binary indexed) tree of non-negative weights."""

    def __init__(self, weights: Sequence[int]) -> None:
        n = len(weights)
        self.tree = [0, *weights]
        for i in range(1, n + 1):  # O(n) build: push each node into its parent
            parent = i + (i & -i)
            if parent <= n:
                self.tree[parent] += self.tree[i]
        self.total = sum(weights)
        self.top = 1 << n.bit_length() if n else 0

    def add(self, index: int, delta: int) -> None:
        i = index + 1
        while i < len(self.tree):
            self.tree[i] += delta
            i += i & -i

    def first_exceeding(self, r: int) -> int:
        """The smallest index whose prefix sum (inclusive) exceeds `r`, for 0 <= r < total."""
        position, step = 0, self.top
        while step:
            nxt = position + step
            if nxt < len(self.tree) and self.tree[nxt] <= r:
                position = nxt
                r -= self.tree[nxt]
            step >>= 1
        # `position` entries have prefix sums <= r: the next one, at 0-based index
        # `position`, is the first to exceed it.
        return position


def entries_digest(entries: Sequence[tuple[str, int]]) -> str:
    """sha256 of the canonical JSON of the normalised entries: [["adv", weight], ...]."""
    canonical = json.dumps([list(e) for e in normalise(entries)], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    winners: list[str]
    seed_matches_hash: bool | None
    """None when no hash was given to compare with."""
    entries_sha256: str


def verify(
    seed: str, entries: list[tuple[str, int]], winners: int, seed_sha256: str | None
) -> Verification:
    matches = None if seed_sha256 is None else seed_hash(seed) == seed_sha256.lower()
    return Verification(draw(seed, entries, winners), matches, entries_digest(entries))
