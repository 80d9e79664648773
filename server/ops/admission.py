"""The HTTP side of :mod:`server.ops.fairness`: which client a request counts against, and the
admission of routes that run store queries themselves (the linked-data pages, the home, plan and search
pages, the charts) under the same limiter as ``/sparql`` and the canned queries.

A page request is admitted once, as one query, for as long as its handler runs (a page asks the store a
few small questions): so a crawler walking the pages spends the same per-client concurrency, queue and
query-seconds budget as one sending queries, and cannot starve ``/sparql``; a heavy client's page
queries run at the lowest CPU priority as its ``/sparql`` queries do (:mod:`server.ops.priority`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, Request

from server.errors import QueryCancelled
from server.ops.fairness import Limiter, client_of
from server.ops.priority import BACKGROUND
from server.settings import Settings


def gone_while_waiting() -> QueryCancelled:
    """The error (499) of a request whose client hung up while it waited for a query slot."""
    return QueryCancelled("the client closed the connection while its request waited for a query slot")


async def give_up_if_gone(request: Request) -> None:
    """Raise :func:`gone_while_waiting` when the client hung up while its request waited for a slot:
    a client that polls with a short timeout (or a crawler that gave up) leaves no queue of abandoned
    work behind it. Only for requests whose body is not read (GET): the check takes the next message."""
    if await request.is_disconnected():
        raise gone_while_waiting()


def client_for(request: Request) -> str:
    """The client ``request`` counts against (its peer, or the forwarded address of a trusted proxy)."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else None
    return client_of(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


async def admitted(request: Request) -> AsyncIterator[None]:
    """A FastAPI dependency: the route runs once the client's query is admitted (429 past its limits,
    503 past the shared queue). A bare app without a limiter (a router mounted alone in a test of its
    own) admits every request."""
    fairness: Limiter | None = getattr(request.app.state, "fairness", None)
    if fairness is None:
        yield
        return
    async with fairness.admit(client_for(request)) as background:
        await give_up_if_gone(request)
        # Read by the store in the threads the handler starts (asyncio.to_thread copies the context);
        # the context is this request's alone.
        BACKGROUND.set(background)
        yield


# For a route's ``dependencies``: admitted around the handler, and let go before the answer is sent
# (a slow reader holds no query slot).
ADMITTED = Depends(admitted, scope="function")
