"""A bounded cache of whole query answers, fair because the data is read-only.

Keys include the store's build id, so answers from an older build are never served after a rebuild
(a new build is a new store with a new id), and :meth:`AnswerCache.use_build` drops every entry at
once when the build being served changes. Only successful answers are kept, and only small ones; the
least recently used go first when the byte budget is spent. One cache per app (``app.state``); it is
touched only from the event loop, so it needs no lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class AnswerCache(Generic[V]):
    def __init__(self, max_bytes: int, max_entry_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes if max_entry_bytes is not None else max_bytes // 16
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._build: str | None = None
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def use_build(self, build_id: str) -> None:
        """The answers to come are of ``build_id``: forget those of any other build."""
        if build_id != self._build:
            self._entries.clear()
            self._bytes = 0
            self._build = build_id

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def peek(self, key: Hashable) -> V | None:
        """The answer under ``key`` if there is one, neither counted nor made the most recent."""
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        if not self.enabled or size > self.max_entry_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._entries[key] = (value, size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._bytes
