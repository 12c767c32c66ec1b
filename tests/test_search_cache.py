"""The per-worker answer cache: generation validity, bounds, one computation per burst."""

from __future__ import annotations

import asyncio

import pytest

from catalogage.search.cache import GenerationCache


def test_a_new_generation_empties_the_cache_and_old_answers_are_refused() -> None:
    cache = GenerationCache(max_entries=10, max_bytes=1000)
    cache.put("q", 1, b"one")
    assert cache.get("q", 1) == b"one"
    assert cache.get("q", 2) is None
    assert len(cache) == 0
    cache.put("q", 1, b"stale")  # computed before generation 2 was seen
    assert cache.get("q", 2) is None
    assert cache.get("q", 1) is None  # an older reader recomputes


def test_entries_and_bytes_are_bounded() -> None:
    cache = GenerationCache(max_entries=2, max_bytes=10)
    cache.put("a", 1, b"1234")
    cache.put("b", 1, b"1234")
    assert cache.get("a", 1) == b"1234"  # "a" is now the most recently used
    cache.put("c", 1, b"1234")
    assert cache.get("b", 1) is None and cache.get("a", 1) and cache.get("c", 1)
    cache.put("d", 1, b"12345678")
    assert len(cache) == 1
    cache.put("huge", 1, b"x" * 11)
    assert cache.get("huge", 1) is None


def test_concurrent_misses_compute_once() -> None:
    cache = GenerationCache(max_entries=10, max_bytes=1000)
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return b"answer"

    async def burst() -> list[bytes]:
        return await asyncio.gather(*(cache.get_or_compute("q", 1, compute) for _ in range(20)))

    assert asyncio.run(burst()) == [b"answer"] * 20
    assert calls == 1


def test_a_failed_computation_fails_its_waiters_and_is_not_cached() -> None:
    cache = GenerationCache(max_entries=10, max_bytes=1000)

    async def fail() -> bytes:
        await asyncio.sleep(0.01)
        raise ValueError("bad input")

    async def burst() -> list[object]:
        return await asyncio.gather(
            *(cache.get_or_compute("q", 1, fail) for _ in range(3)), return_exceptions=True
        )

    results = asyncio.run(burst())
    assert all(isinstance(r, ValueError) for r in results)
    assert cache.get("q", 1) is None


def test_a_disabled_cache_always_computes() -> None:
    cache = GenerationCache(max_entries=0, max_bytes=1000)

    async def compute() -> bytes:
        return b"x"

    assert asyncio.run(cache.get_or_compute("q", 1, compute)) == b"x"
    assert len(cache) == 0


@pytest.mark.parametrize("generation", [1, 5])
def test_get_after_put_same_generation(generation: int) -> None:
    cache = GenerationCache(max_entries=1, max_bytes=100)
    cache.put(("k", generation), generation, b"v")
    assert cache.get(("k", generation), generation) == b"v"
