"""Search answers cached per worker process, valid for one catalog generation.

`search_state.generation` (migration 0002) moves on in the same transaction as any
change to datasets, organizations or extra field definitions, so an answer
computed after reading generation G is never older than G: serving it to a
request that reads G again is exactly as correct as recomputing it. The first
request that reads a newer generation empties the cache.

Concurrent requests for the same missing answer compute it once (the others wait
for it), so a popular query arriving in a burst after a change costs one query.

Keys include the caller's visibility scope (anonymous, the set of organizations
they belong to, or admin), so an answer is only ever served to callers who may
see the same datasets.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable


class GenerationCache:
    """A bounded LRU of encoded answers, emptied when the generation changes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.generation: int | None = None
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._computing: dict[tuple[Hashable, int], asyncio.Future[bytes]] = {}

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def _sync(self, generation: int) -> None:
        if generation != self.generation:
            self._entries.clear()
            self._bytes = 0
            self.generation = generation

    def get(self, key: Hashable, generation: int) -> bytes | None:
        if self.generation is not None and generation < self.generation:
            return None
        self._sync(generation)
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, generation: int, value: bytes) -> None:
        if not self.enabled or len(value) > self.max_bytes:
            return
        if self.generation is not None and generation < self.generation:
            return  # computed before a change another request has already seen
        self._sync(generation)
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous)
        self._entries[key] = value
        self._bytes += len(value)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted)

    async def get_or_compute(
        self, key: Hashable, generation: int, compute: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        """The cached answer, or `compute()`'s, shared with concurrent callers."""
        cached = self.get(key, generation)
        if cached is not None:
            return cached
        if not self.enabled:
            return await compute()
        flight = (key, generation)
        pending = self._computing.get(flight)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._computing[flight] = future
        try:
            value = await compute()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no warning when nobody was waiting
            raise
        finally:
            del self._computing[flight]
        future.set_result(value)
        self.put(key, generation, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)
