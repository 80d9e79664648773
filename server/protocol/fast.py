"""``GET /sparql`` answered at the HTTP protocol, without the ASGI stack, when it can be answered at once.

Profiled on distinct one-subject lookups (py-spy of one server process, session 7), the engine's part
of a request (parse, seek, serialise) was about a third of the server's CPU; most of the rest was the
way to it and back: uvicorn's request cycle and its task, FastAPI's and Starlette's layers, our eight
middlewares, each ``send`` wrapped once per layer, the response object's ``__call__``. None of it is
needed by a query whose answer is there at once — one of the bounded lane
(:mod:`server.stores.bounded`), evaluated on the event loop anyway, or one in the answer cache.

:class:`FastAnswers` answers such a request from the parsed request line and headers, synchronously,
with the functions the app uses for it, so that the answer is the one the whole stack gives, byte for
byte (tests/test_fast.py sends a table of requests to both): the request read by
:func:`server.protocol.sparql.read_get`, the formats by ``choose_formats``, the endpoint URL as base,
the answer cache's key, the lane's classification and its SERVICE check (``bounded_query``), the
client's query-time budget (``admit_bounded``), the response by ``whole_answer``, gzip, CORS and the
security headers by the finishing layer's own ``finish_whole``, the log line and the metrics by the
access log's ``record``. The protocol (:class:`server.ops.slowclients.GuardedProtocol`) writes the
status line and uvicorn's default headers (``date``, ``server``) as uvicorn writes them.

Anything else goes to the app as before, untouched: a request this path does not read to the end
(another method or path, a body, a pipelined request behind an unanswered one, a paused writer, a
trusted proxy's request), an error of the request (400, 406 … are the app's to answer), a query
outside the lane that is not in the cache. Once the cache and the lane have been tried here, what
they gave is handed to the app in the scope (:class:`server.protocol.sparql.LaneDone`, and the read
request under ``READ_REQUEST``): an error (429, a syntax error the engine found, too many rows) is
answered by the app's handlers as if raised there, a query outside the lane or longer than the lane
reads goes on to a worker without being read, looked up or classified again (a worker's query pays
for the fast path's attempt only the scope's two entries); the cache is not consulted twice, the lane
not run twice, the budget not charged twice.

A query that needs a worker is, in the common case, answered here too (session 9): :meth:`answer`
leaves a :class:`WorkerQuery` in the scope, and the protocol, holding the app's request cycle
unstarted, awaits :meth:`FastAnswers.answer_worker`, which admits and runs it with the app's own
:func:`server.protocol.sparql.run_in_worker` (the same limiter, query slots, threads, time and memory
limits, SERVICE check, and the running query stopped when the client goes) and gives back the whole
200 answer, cached and recorded as the app does. Whatever else becomes of it — an error, a spooled
answer, a body to compress in a thread — is handed to the app's cycle as a
:class:`server.protocol.sparql.WorkerDone`, which the app answers as if it had run the query itself.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.errors import StoreUnavailable
from server.ops.accesslog import record
from server.ops.fairness import client_of
from server.ops.metrics import Metrics
from server.protocol.finishing import FinishAnswers, Raw, excluded, read_headers
from server.protocol.forwarded import is_trusted
from server.protocol.sparql import (
    LANE_DONE,
    READ_REQUEST,
    LaneDone,
    QueryRequest,
    WorkerDone,
    bounded_query,
    cache_answer,
    cache_key,
    choose_formats,
    plain_query_string,
    read_get,
    run_in_worker,
    scope_endpoint_url,
    whole_answer,
)
from server.stores.interface import FormatChoice, QueryOutcome

PATH = "/sparql"
ROUTE = "/sparql"  # the route label the metrics give /sparql (server.ops.metrics.route_label)


@dataclass(frozen=True)
class FastAnswer:
    """An answer the protocol writes itself: its status, headers (after uvicorn's defaults) and body."""

    status: int
    headers: Raw
    body: bytes


@dataclass(frozen=True)
class WorkerQuery:
    """A GET's query that needs a worker, as :meth:`FastAnswers.answer` read and looked it up (in the
    scope under ``WORKER_QUERY``, for the protocol to run with :meth:`FastAnswers.answer_worker`)."""

    req: QueryRequest  # with the endpoint URL as base
    choice: FormatChoice
    key: tuple[object, ...]  # in the answer cache
    build_id: str
    client: str  # whom the query counts against (server.ops.fairness)
    method: str
    path: str
    origin: str | None
    gzip: bool
    started: float  # perf_counter at the request's start (the log line's duration)


# In a request's scope when the fast path read, looked up and classified a worker's query (a WorkerQuery).
WORKER_QUERY = "plankg.worker_query"


class FastAnswers:
    """The fast path of one app (``app.state.fast_answers``): see the module."""

    def __init__(self, state: Any, finishing: FinishAnswers, metrics: Metrics) -> None:
        self.state = state  # the app's state: its store, settings, cache and limiter as they are now
        self.finishing = finishing
        self.metrics = metrics

    def answer(self, scope: dict[str, Any]) -> FastAnswer | None:
        """The answer to the GET or HEAD of ``PATH`` that ``scope`` describes (its ``method``,
        ``path``, ``query_string``, ``headers``, ``client`` … as uvicorn fills them), with its log
        line and metrics recorded; None when the app is to answer it (then ``scope`` may carry a
        :class:`LaneDone` for it)."""
        started = time.perf_counter()
        state = self.state
        store = state.store
        settings = state.settings
        if store is None or scope["path"] != PATH or scope.get("root_path"):
            return None
        method: str = scope["method"]
        client = scope.get("client")
        peer = client[0] if client else None
        if settings.trusted_proxies and is_trusted(peer, settings.trusted_proxies):
            return None  # the forwarded-header layer rewrites this request's scope: the app's
        accept: str | None = None
        forwarded_for: str | None = None
        for key, value in scope["headers"]:
            if key == b"accept":
                accept = value.decode("latin-1") if accept is None else accept
            elif key == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1") if forwarded_for is None else forwarded_for
        origin, gzip, _ = read_headers(scope["headers"])
        query_string = plain_query_string(scope)
        if query_string is None:
            return None
        try:
            read = read_get(query_string, settings)
            if read is None:
                return None  # the service description or the query page: the route's
            req = dataclasses.replace(read, base_iri=scope_endpoint_url(scope))
            choice = choose_formats(accept, req.format_name)
        except Exception:  # a 400, 403, 406 …: answered by the app, with its handlers
            return None
        cache = state.answer_cache
        try:
            build_id = store.build_id
        except StoreUnavailable:  # the app's 503 with its reason (no cached answer, nothing logged here)
            return None
        cache.use_build(build_id)
        key = cache_key(build_id, req, choice, settings)
        outcome = cache.peek(key)
        cached = outcome is not None
        if outcome is not None:
            if outcome.body is None or not self._fits(outcome.body, gzip):
                return None
            cache.get(key)  # counted as the app counts it
        else:
            try:
                evaluate = bounded_query(store, settings, req, choice)
            except Exception:  # refused by the SERVICE or update checks: the app's 400
                return None
            cache.get(key)  # the miss, counted once
            client = client_of(peer, forwarded_for, settings.trusted_proxies)
            if evaluate is None:  # a worker's query: the app goes on without reading it again
                scope[READ_REQUEST] = read
                scope[LANE_DONE] = LaneDone()
                # The protocol may run it itself (answer_worker), or leave it to the app.
                scope[WORKER_QUERY] = WorkerQuery(
                    req, choice, key, build_id, client, method, scope["path"], origin, gzip, started
                )
                return None
            try:
                with state.fairness.admit_bounded(client):
                    outcome = evaluate()
            except Exception as exc:  # 429, the engine's syntax error, too many rows …
                scope[LANE_DONE] = LaneDone(error=exc)
                return None
            if outcome is None or outcome.body is None or not self._fits(outcome.body, gzip):
                scope[LANE_DONE] = LaneDone(outcome=outcome)
                return None
            cache_answer(cache, key, req, outcome, build_id)
        return self._finished(outcome, cached, method, scope["path"], origin, gzip, started)

    async def answer_worker(
        self,
        query: WorkerQuery,
        gone: Callable[[], Awaitable[bool]],
        until_gone: Callable[[], Awaitable[None]],
    ) -> FastAnswer | WorkerDone:
        """The answer to a worker's query :meth:`answer` left in the scope (``WORKER_QUERY``), admitted
        and run as the app runs it (:func:`server.protocol.sparql.run_in_worker`: the same limiter,
        slots, thread pool, time and memory limits, and the query stopped once the client is
        ``gone()``/``until_gone()`` returns), cached and logged as the app does; or what became of it
        (its error, or an answer this path does not write: spooled, or to compress in a thread), for
        the app to answer with (``WORKER_DONE``)."""
        state = self.state
        try:
            outcome = await run_in_worker(
                state,
                state.store,
                state.settings,
                query.client,
                query.req,
                query.choice,
                gone,
                until_gone,
            )
        except Exception as exc:  # 429, 503, 499, a syntax error, too many rows …: the app's handlers
            return WorkerDone(error=exc)
        if outcome.body is None or not self._fits(outcome.body, query.gzip):
            return WorkerDone(outcome=outcome)
        cache_answer(state.answer_cache, query.key, query.req, outcome, query.build_id)
        return self._finished(
            outcome, False, query.method, query.path, query.origin, query.gzip, query.started
        )

    def _finished(
        self,
        outcome: QueryOutcome,
        cached: bool,
        method: str,
        path: str,
        origin: str | None,
        gzip: bool,
        started: float,
    ) -> FastAnswer:
        """A whole answer as the app sends it (headers, gzip, CORS, security headers), recorded."""
        note, response = whole_answer(outcome, cached)
        raw: Raw = list(response.raw_headers)
        body = bytes(response.body)  # the answer's bytes as Response holds them (already bytes)
        if excluded(raw):
            self.finishing.finish(raw, origin)
        else:
            finished = self.finishing.finish_whole(raw, body, origin, gzip)
            assert finished is not None  # _fits
            body = finished
        record(
            self.metrics,
            ROUTE,
            method,
            path,
            response.status_code,
            time.perf_counter() - started,
            note,
        )
        return FastAnswer(response.status_code, raw, b"" if method == "HEAD" else body)

    def _fits(self, body: bytes, gzip: bool) -> bool:
        """Whether the finishing layer would compress ``body`` here rather than in a thread."""
        return not gzip or len(body) < self.finishing.thread_minimum_size


__all__ = ["WORKER_QUERY", "FastAnswer", "FastAnswers", "WorkerQuery"]
