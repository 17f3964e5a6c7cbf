"""Crawler detection by user agent, from the maintained crawler-user-agents dataset."""

from __future__ import annotations

from functools import lru_cache

import crawleruseragents  # type: ignore[import-untyped]  # ships no type information

# The dataset's matcher tries ~1,500 patterns (~150 µs per user agent); real
# traffic repeats a small set of user agents, so a bounded cache makes it cheap.
_CACHE_SIZE = 65_536


@lru_cache(maxsize=_CACHE_SIZE)
def is_crawler(user_agent: str) -> bool:
    """True when `user_agent` matches a known bot, crawler or HTTP library."""
    return bool(crawleruseragents.is_crawler(user_agent))


def dataset_size() -> int:
    return len(crawleruseragents.CRAWLER_USER_AGENTS_DATA)
