"""Slow clients are cut: a request must arrive whole within ``request_timeout`` seconds, and a client
that leaves the answer unread for ``write_timeout`` seconds is disconnected.

uvicorn times out only an idle keep-alive connection: a client trickling its request a byte at a time
(or connecting and sending nothing), or one that never reads the answer (the server's writes pause on
a full buffer and wait for ever), would hold its connection, its task and the answer's memory as long as
it liked. :func:`guarded_protocol` is uvicorn's httptools protocol with two timers: one from a
connection's (or a keep-alive request's) first byte until the request is complete — head and body —
and one that runs while writing is paused. Either, when it fires, aborts the connection. Its writes
go through :class:`server.ops.coalesce.CoalescingTransport` (an answer's head and body in one write).

A complete ``GET``/``HEAD`` of ``/sparql`` without a body is first offered to the app's fast path
(:mod:`server.protocol.fast`, ``app.state.fast_answers``): a query of the bounded lane or in the answer
cache is answered right here, without the request cycle, its task and the ASGI stack, with the bytes
the app would have sent. A query that needs a query worker is run by a task of the protocol with the
app's cycle built but held (the connection's current cycle, so that a request pipelined behind it
waits as behind any other): its whole 200 answer is written here as the cycle would write it, and
anything else (an error, a spooled answer) starts the held cycle with what became of the query
(``WORKER_DONE``). Anything else goes on to the app as every request does.

A request the parser refuses before the app sees it (malformed, or a request line past httptools'
limit: a GET with a URL over 64 KiB, e.g. a long reconciliation batch) is answered as every other 400,
a problem document (``application/problem+json``), not uvicorn's ``text/plain``.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from server.errors import problem
from server.ops.coalesce import CoalescingTransport
from server.protocol.fast import WORKER_QUERY
from server.protocol.sparql import WORKER_DONE, WorkerDone

REQUEST_TIMEOUT = 20.0
WRITE_TIMEOUT = 30.0


_SPARQL = b"/sparql?"
_BODY_HEADERS = (b"content-length", b"transfer-encoding")


class GuardedProtocol(HttpToolsProtocol):
    request_timeout = REQUEST_TIMEOUT
    write_timeout = WRITE_TIMEOUT
    fast = True  # offer /sparql GETs to the app's fast path (server.protocol.fast)
    _request_timer: asyncio.TimerHandle | None = None
    _write_timer: asyncio.TimerHandle | None = None
    _deferred = False  # the request's cycle not started yet: the fast path may answer it
    _hold = False  # the next request cycle is kept, not started: the fast path runs its worker's query
    _held: tuple[RequestResponseCycle, Any] | None = None

    def _cut(self) -> None:
        if not self.transport.is_closing():
            self.transport.abort()

    def _start_request_timer(self) -> None:
        if self._request_timer is None:
            self._request_timer = self.loop.call_later(self.request_timeout, self._cut)

    def _stop(self, timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # An answer's head and body in one write (server.ops.coalesce).
        super().connection_made(CoalescingTransport(transport, self.loop))
        self._start_request_timer()  # a connection that sends nothing is cut too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # A request parsed right after a fast answer (pipelined in the same read) runs without the
        # keep-alive timer that answer armed, as every request does.
        self._unset_keepalive_if_required()
        self._start_request_timer()

    def on_headers_complete(self) -> None:
        if self._fast_candidate():
            self._deferred = True  # decided once the request is complete (on_message_complete)
            return
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop(self._request_timer)
        self._request_timer = None
        if self._deferred:
            self._deferred = False
            if self._answer_fast():
                return
            scope: Any = self.scope
            query = scope.pop(WORKER_QUERY, None)
            # The app's cycle, as if never deferred; kept unstarted when the fast path runs the query.
            self._hold = query is not None
            try:
                super().on_headers_complete()
            finally:
                self._hold = False
            held, self._held = self._held, None
            super().on_message_complete()
            if held is not None:
                task = self.loop.create_task(self._answer_worker(held[0], held[1], query))
                task.add_done_callback(self.tasks.discard)
                self.tasks.add(task)
            return
        super().on_message_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if self._hold:
            self._held = (cycle, app)
            return
        super()._start_asgi_task(cycle, app)

    async def _answer_worker(self, cycle: RequestResponseCycle, app: Any, query: Any) -> None:
        """Run a worker's query the fast path read (:meth:`FastAnswers.answer_worker`) and write its
        answer as the app's cycle would; or start the app's cycle with what became of it."""
        fast = self._fast_answers()

        async def gone() -> bool:  # as Starlette's is_disconnected reads the cycle
            return cycle.disconnected

        async def until_gone() -> None:  # as the app's watcher reads the cycle's receive
            while (await cycle.receive())["type"] != "http.disconnect":
                pass

        try:
            answer = await fast.answer_worker(query, gone, until_gone)
        except Exception as exc:  # a fault of the fast path itself (the query may have run): the app's 500
            self.logger.exception("the fast path failed on a worker's query; the app answers")
            answer = WorkerDone(error=exc)
        if isinstance(answer, WorkerDone):
            cycle.scope[WORKER_DONE] = answer  # type: ignore[literal-required]
            super()._start_asgi_task(cycle, app)
            return
        if cycle.disconnected:
            return  # nothing is written to a client that left (as the cycle's send does)
        if self.flow.write_paused:
            await self.flow.drain()
            if cycle.disconnected:
                return
        self._write_answer(answer, cycle.keep_alive)
        cycle.response_complete = True
        cycle.message_event.set()
        self.on_response_complete()

    def _fast_answers(self) -> Any:
        return getattr(getattr(self.app, "state", None), "fast_answers", None) if self.fast else None

    def _fast_candidate(self) -> bool:
        """A request the fast path may answer: GET or HEAD of /sparql with a query string, HTTP/1.1,
        no body, no upgrade, nothing before it still unanswered, the writer not paused."""
        if not self.url.startswith(_SPARQL) or self.parser.get_method() not in (b"GET", b"HEAD"):
            return False
        if self.parser.get_http_version() != "1.1" or self.parser.should_upgrade():
            return False
        if (self.cycle is not None and not self.cycle.response_complete) or self.pipeline:
            return False
        if self.flow.write_paused or self.limit_concurrency is not None or self.root_path:
            return False
        if any(name in _BODY_HEADERS for name, _ in self.headers):
            return False
        return self._fast_answers() is not None

    def _answer_fast(self) -> bool:
        """Answer the deferred request here if the app's fast path can (see the module)."""
        fast = self._fast_answers()
        scope: Any = self.scope
        parsed = httptools.parse_url(self.url)
        raw_path = parsed.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        # The scope as uvicorn fills it (on_headers_complete does it again should the app answer).
        scope["method"] = self.parser.get_method().decode("ascii")
        scope["path"] = path
        scope["raw_path"] = raw_path
        scope["query_string"] = parsed.query or b""
        try:
            answer = fast.answer(scope) if fast is not None else None
        except Exception:  # a fault of the fast path itself: the app answers (and reports what it meets)
            self.logger.exception("the fast path failed on %s %s; the app answers", scope["method"], path)
            return False
        if answer is None:
            return False
        keep_alive = self.parser.should_keep_alive()
        self._write_answer(answer, keep_alive)
        self.on_response_complete()  # counted; the keep-alive timer armed, reading resumed
        return True

    def _write_answer(self, answer: Any, keep_alive: bool) -> None:
        """The status line, uvicorn's default headers, the answer's, and its body; the connection
        closed after it unless ``keep_alive``."""
        head = [STATUS_LINE[answer.status]]
        for name, value in (*self.server_state.default_headers, *answer.headers):
            head += [name.lower(), b": ", value, b"\r\n"]
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", answer.body]
        self.transport.write(b"".join(head))
        if not keep_alive:
            self.transport.close()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self.write_timeout, self._cut)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stop(self._write_timer)
        self._write_timer = None

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this only when httptools refuses the bytes (its msg: "Invalid HTTP request received.")
        detail = (
            "the request could not be read as HTTP/1.1: it is malformed, or its request line or a header "
            "is too long (send a long query by POST)"
        )
        body = json.dumps(problem(400, "Bad HTTP request", detail)).encode("utf-8")
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/problem+json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop(self._request_timer)
        self._stop(self._write_timer)
        super().connection_lost(exc)


def guarded_protocol(
    request_timeout: float = REQUEST_TIMEOUT, write_timeout: float = WRITE_TIMEOUT, *, fast: bool = True
) -> type[GuardedProtocol]:
    """The protocol class for ``uvicorn.run(http=...)`` with these timeouts; ``fast``: with the app's
    fast path for /sparql GETs (server.protocol.fast)."""
    return type(
        "GuardedProtocol",
        (GuardedProtocol,),
        {"request_timeout": request_timeout, "write_timeout": write_timeout, "fast": fast},
    )


__all__ = ["REQUEST_TIMEOUT", "WRITE_TIMEOUT", "GuardedProtocol", "guarded_protocol"]
