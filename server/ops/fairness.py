"""Per-client limits on queries: one client cannot starve the others.

A client is the peer address of the connection, or — when that peer is one of the configured trusted
proxies — the last address in ``X-Forwarded-For`` that is not a trusted proxy. Each client may have
``concurrent`` queries running, ``queued`` more waiting, and spend ``seconds_per_minute`` seconds of
query time in any sliding minute; all clients together have ``slots`` queries running (the store's
query workers) and ``queue`` waiting.

A *heavy* client — one whose queries took ``heavy_seconds`` or more of the sliding minute, those
still running counted as far as they have run — may start a query only while more than ``reserve``
slots are free: the last slot(s) are kept for the light clients, so that another client's cheap query
never waits behind heavy work, however many heavy clients there are (the per-client ``concurrent``
limit alone keeps one slot free of each heavy client, not of all of them). With one slot there is no
reserve. A heavy client's waiting query runs when a slot frees and the reserve stays. A heavy
client's queries also run at the lowest CPU priority (:mod:`server.ops.priority`): a slot kept free is
no help to a cheap query whose worker gets the CPU only in turn with the heavy ones.

Past a client's limit the answer is 429 with ``Retry-After``;
past the shared queue it is 503 with ``Retry-After`` (the server, not the client, is the limit); a
query that waited its whole time limit is 503 like a busy store.

:class:`Limiter` is the interface the query path uses (``async with limiter.admit(client): ...``; a
query of the bounded lane, which needs no worker, ``with limiter.admit_bounded(client): ...``: the
budget only).
:class:`LocalLimiter` keeps its counts in this process: under N server processes sharing one port,
each process counts on its own, so a client may reach N times its limits (its connections spread
over the processes) and the shared queue is N queues. A limiter over shared state (a file, a small
server) can replace it without touching the query path.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from dataclasses import dataclass, field
from typing import Protocol

from server.errors import ServerBusy, TooManyRequests

WINDOW = 60.0  # seconds: the sliding minute of the query-time budget


@dataclass(frozen=True)
class Limits:
    concurrent: int = 1  # queries of one client running at once
    queued: int = 16  # queries of one client waiting for a slot
    seconds_per_minute: float = 60.0  # query time of one client per sliding minute (0: no budget)
    slots: int = 2  # queries running at once, all clients (the query workers)
    queue: int = 128  # queries waiting, all clients
    wait: float = 30.0  # seconds a query may wait for a slot
    reserve: int = 0  # slots that heavy clients leave free for the others (at most slots - 1; 0: none)
    heavy_seconds: float = 15.0  # query time in the sliding minute that makes a client heavy


class Limiter(Protocol):
    def admit(self, client: str, wait: float | None = None) -> AbstractAsyncContextManager[bool]:
        """An async context manager: entered when the query may run, with whether it runs in the
        background (the client is heavy: server.ops.priority); raises TooManyRequests (429) or
        ServerBusy (503) instead, also when no slot comes free within ``wait`` seconds (the query's
        own time limit; at most ``Limits.wait``)."""
        ...

    def free(self, client: str) -> bool:
        """Whether a query of ``client`` would be admitted now, without waiting for a slot."""
        ...

    def admit_bounded(self, client: str) -> AbstractContextManager[None]:
        """A context manager for a query of the bounded lane (server.stores.bounded), evaluated by
        the server process at once: it takes no slot and never waits, but the client's query-time
        budget applies (429 when spent) and its time counts against it."""
        ...


@dataclass
class _Client:
    running: int = 0
    waiting: int = 0
    spent: deque[tuple[float, float]] = field(default_factory=deque)  # (ended at, seconds)
    used: float = 0.0  # the sum of the seconds in ``spent``, kept as they come and go
    started: list[float] = field(default_factory=list)  # when each running query started

    def expire(self, before: float) -> None:
        """Forget the queries that ended before ``before``."""
        while self.spent and self.spent[0][0] <= before:
            self.used -= self.spent.popleft()[1]
        if not self.spent:
            self.used = 0.0  # no rounding drift left behind


class LocalLimiter:
    """:class:`Limiter` with this process's counts (an asyncio condition; the event loop's thread)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._clients: dict[str, _Client] = {}
        self._running = 0
        self._waiting = 0
        self._changed: asyncio.Condition | None = None

    def stats(self) -> Mapping[str, int]:
        return {"running": self._running, "waiting": self._waiting, "clients": len(self._clients)}

    def _budget_left(self, state: _Client) -> float:
        """Seconds of the client's budget left; raises 429 when none is."""
        budget = self.limits.seconds_per_minute
        if budget <= 0:
            return math.inf
        now = self.clock()
        state.expire(now - WINDOW)
        # A running total: summing the window on every query cost O(queries per minute) each.
        used = state.used
        if used < budget:
            return budget - used
        # When enough of the minute's spending has expired to bring it back under the budget.
        over, retry = used - budget, WINDOW
        for ended, seconds in state.spent:
            over -= seconds
            if over < 0:
                retry = ended + WINDOW - now
                break
        raise TooManyRequests(
            f"this client has used {used:.1f} s of query time in the last minute; the limit is {budget:g} s",
            retry_after=max(1, math.ceil(retry)),
        )

    def used(self, client: str) -> float:
        """Query seconds of ``client`` in the sliding minute, its running queries so far included."""
        state = self._clients.get(client)
        return 0.0 if state is None else self._used(state)

    def _used(self, state: _Client) -> float:
        now = self.clock()
        state.expire(now - WINDOW)  # the running total, as in _budget_left
        return state.used + sum(now - started for started in state.started)

    def heavy(self, client: str) -> bool:
        state = self._clients.get(client)
        return state is not None and self._heavy(state)

    def _heavy(self, state: _Client) -> bool:
        return self.limits.reserve > 0 and self._used(state) >= self.limits.heavy_seconds

    def free(self, client: str) -> bool:
        state = self._clients.get(client)
        return self._free(_Client() if state is None else state)

    def _free(self, state: _Client) -> bool:
        if state.running >= self.limits.concurrent:
            return False
        slots = self.limits.slots
        if self._heavy(state):
            slots -= max(0, min(self.limits.reserve, slots - 1))
        return self._running < slots

    @asynccontextmanager
    async def admit(self, client: str, wait: float | None = None) -> AsyncIterator[bool]:
        if self._changed is None:
            self._changed = asyncio.Condition()
        changed = self._changed
        state = self._clients.setdefault(client, _Client())
        try:
            self._budget_left(state)
            if not self._free(state):
                if state.waiting >= self.limits.queued:
                    raise TooManyRequests(
                        f"this client has {state.running} queries running and {state.waiting} waiting; "
                        f"the limits are {self.limits.concurrent} and {self.limits.queued}",
                        retry_after=1,
                    )
                if self._waiting >= self.limits.queue:
                    raise ServerBusy(
                        f"{self._waiting} queries are waiting already (the limit of the queue)",
                        retry_after=2,
                    )
                # A query waits for a slot no longer than the time limit it asked for (timeout=): its
                # client expects an answer or an error by then.
                patience = self.limits.wait if wait is None else min(wait, self.limits.wait)
                state.waiting += 1
                self._waiting += 1
                try:
                    async with changed:
                        await asyncio.wait_for(changed.wait_for(lambda: self._free(state)), timeout=patience)
                except TimeoutError:
                    raise ServerBusy(
                        f"no query slot came free within {patience:g} s", retry_after=5
                    ) from None
                finally:
                    state.waiting -= 1
                    self._waiting -= 1
            background = self._heavy(state)  # decided before this query counts as running
            state.running += 1
            self._running += 1
            started = self.clock()
            state.started.append(started)
            try:
                yield background
            finally:
                state.running -= 1
                self._running -= 1
                state.started.remove(started)
                if self.limits.seconds_per_minute > 0 or self.limits.reserve > 0:
                    ended = self.clock()
                    state.spent.append((ended, ended - started))
                    state.used += ended - started
                async with changed:
                    changed.notify_all()
        finally:
            if state.running == 0 and state.waiting == 0:
                state.expire(self.clock() - WINDOW)
                if not state.spent:
                    self._clients.pop(client, None)

    @contextmanager
    def admit_bounded(self, client: str) -> Iterator[None]:
        limits = self.limits
        if limits.seconds_per_minute <= 0 and limits.reserve <= 0:
            yield  # nothing to count
            return
        state = self._clients.setdefault(client, _Client())
        try:
            self._budget_left(state)
            started = self.clock()
            try:
                yield
            finally:
                ended = self.clock()
                state.spent.append((ended, ended - started))
                state.used += ended - started
        finally:
            if state.running == 0 and state.waiting == 0:
                state.expire(self.clock() - WINDOW)
                if not state.spent:
                    self._clients.pop(client, None)


def client_of(
    peer: str | None,
    forwarded_for: str | None,
    trusted: Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The client a request counts against: its peer, or the forwarded address when the peer is a
    trusted proxy (the rightmost address of X-Forwarded-For that is not itself a trusted proxy).
    ``trusted`` holds addresses or networks (``PLANKG_TRUSTED_PROXIES``)."""
    if peer is None:
        return "(unknown)"
    if not forwarded_for:
        return peer  # nothing forwarded: whoever the peer is (checked first: the common case, cheaply)
    networks = [ipaddress.ip_network(t, strict=False) if isinstance(t, str) else t for t in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not is_trusted(peer):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a malformed header counts against the proxy itself
        if not is_trusted(address):
            return address
    return peer


__all__ = ["WINDOW", "Limiter", "Limits", "LocalLimiter", "client_of"]
