"""The link cache: hits skip the database, unknown codes are remembered briefly."""

from __future__ import annotations

from chorus_sharing.link_cache import LinkCache
from chorus_sharing.repository.links import LinkTarget


class Directory:
    def __init__(self, known: dict[str, LinkTarget]) -> None:
        self.known = known
        self.lookups: list[str] = []

    async def find(self, code: str) -> LinkTarget | None:
        self.lookups.append(code)
        return self.known.get(code)


def _target(code: str) -> LinkTarget:
    return LinkTarget("t1", f"s-{code}", code, f"https://example.com/{code}")


async def test_known_links_are_looked_up_once_and_evicted_least_recently_used() -> None:
    directory = Directory({c: _target(c) for c in ("aaaa", "bbbb", "cccc")})
    cache = LinkCache(directory, size=2, negative_size=10, negative_ttl=30)
    for code in ("aaaa", "bbbb", "aaaa", "cccc", "aaaa", "bbbb"):
        found = await cache.resolve(code)
        assert found is not None and found.code == code
    # bbbb was least recently used when cccc arrived, so it was looked up again.
    assert directory.lookups == ["aaaa", "bbbb", "cccc", "bbbb"]


async def test_unknown_codes_are_cached_until_their_ttl_passes() -> None:
    now = [0.0]
    directory = Directory({})
    cache = LinkCache(directory, size=2, negative_size=10, negative_ttl=30, clock=lambda: now[0])
    assert await cache.resolve("zzzz") is None
    assert await cache.resolve("zzzz") is None
    now[0] = 31.0
    directory.known["zzzz"] = _target("zzzz")
    assert await cache.resolve("zzzz") is not None
    assert directory.lookups == ["zzzz", "zzzz"]
