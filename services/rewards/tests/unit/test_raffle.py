"""The raffle algorithm: deterministic, weighted, without replacement, unbiased, verifiable."""

from __future__ import annotations

from collections import Counter

import pytest
from chorus_rewards import raffle

SEED = "4f1c0b9e2d7a3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"


def test_the_same_seed_and_entries_give_the_same_winners_whatever_the_entry_order() -> None:
    entries = [("zoe", 2), ("amy", 5), ("max", 1), ("bo", 3)]
    first = raffle.draw(SEED, entries, 3)
    assert first == raffle.draw(SEED, list(reversed(entries)), 3)
    assert len(set(first)) == 3, "nobody wins twice"
    assert raffle.draw(SEED + "x", entries, 3) != first or raffle.draw("other", entries, 3) != first


def test_zero_weights_never_win_and_more_winners_than_entries_draws_everyone() -> None:
    entries = [("a", 0), ("b", 1), ("c", 4)]
    assert sorted(raffle.draw(SEED, entries, 5)) == ["b", "c"]
    assert raffle.draw(SEED, [], 3) == []


def test_the_weight_is_the_chance_over_many_seeds() -> None:
    wins = Counter(raffle.draw(f"seed-{i}", [("one", 1), ("three", 3)], 1)[0] for i in range(4000))
    assert wins["three"] / 4000 == pytest.approx(0.75, abs=0.03)


def test_uniform_rejects_the_biased_tail_and_stays_in_range() -> None:
    for total in (1, 2, 3, 7, 2**255 + 1):
        for draw in range(20):
            assert 0 <= raffle.uniform(SEED, draw, total) < total
    with pytest.raises(ValueError):
        raffle.uniform(SEED, 0, 0)


def test_verification_checks_the_seed_against_the_published_hash() -> None:
    entries = [("amy", 3), ("bob", 1)]
    good = raffle.verify(SEED, entries, 1, raffle.seed_hash(SEED).upper())
    assert good.seed_matches_hash is True
    assert good.winners == raffle.draw(SEED, entries, 1)
    assert raffle.verify("forged", entries, 1, raffle.seed_hash(SEED)).seed_matches_hash is False
    assert raffle.entries_digest(entries) == raffle.entries_digest(list(reversed(entries)))


def _walk(seed: str, entries: list[tuple[str, int]], winners: int) -> list[str]:
    """Steps 1-4 of the algorithm exactly as the module docstring words them."""
    pool = raffle.normalise(entries)
    chosen: list[str] = []
    for k in range(min(winners, len(pool))):
        r = raffle.uniform(seed, k, sum(weight for _, weight in pool))
        running = 0
        for i, (advocate, weight) in enumerate(pool):
            running += weight
            if r < running:
                chosen.append(advocate)
                del pool[i]
                break
    return chosen


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 9, 64, 300])
def test_the_fast_draw_picks_what_the_documented_walk_picks(size: int) -> None:
    import random

    rng = random.Random(size)
    for trial in range(20):
        entries = [(f"adv-{i:04d}", rng.choice([0, 1, 1, 2, 5, 40])) for i in range(size)]
        seed = f"{SEED}-{size}-{trial}"
        assert raffle.draw(seed, entries, size + 2) == _walk(seed, entries, size + 2)


def test_a_large_raffle_draws_quickly_and_without_repeats() -> None:
    entries = [(f"adv-{i:06d}", 1 + i % 7) for i in range(100_000)]
    winners = raffle.draw(SEED, entries, 1_000)
    assert len(winners) == len(set(winners)) == 1_000
    assert winners[:20] == _walk(SEED, entries[:], 20)
