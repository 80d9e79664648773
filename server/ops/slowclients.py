"""Slow clients are cut: a request must arrive whole within ``request_timeout`` seconds, and a client
that leaves the answer unread for ``write_timeout`` seconds is disconnected.

uvicorn times out only an idle keep-alive connection: a client trickling its request a byte at a time
(or connecting and sending nothing), or one that never reads the answer (the server's writes pause on
a full buffer and wait for ever), would hold its connection, its task and the answer's memory as long as
it liked. :func:`guarded_protocol` is uvicorn's httptools protocol with two timers: one from a
connection's (or a keep-alive request's) first byte until the request is complete — head and body —
and one that runs while writing is paused. Either, when it fires, aborts the connection. Its writes
go through :class:`server.ops.coalesce.CoalescingTransport` (an answer's head and body in one write).

A request the parser refuses before the app sees it (malformed, or a request line past httptools'
limit: a GET with a URL over 64 KiB, e.g. a long reconciliation batch) is answered as every other 400,
a problem document (``application/problem+json``), not uvicorn's ``text/plain``.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from server.errors import problem
from server.ops.coalesce import CoalescingTransport

REQUEST_TIMEOUT = 20.0
WRITE_TIMEOUT = 30.0


class GuardedProtocol(HttpToolsProtocol):
    request_timeout = REQUEST_TIMEOUT
    write_timeout = WRITE_TIMEOUT
    _request_timer: asyncio.TimerHandle | None = None
    _write_timer: asyncio.TimerHandle | None = None

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
        self._start_request_timer()

    def on_message_complete(self) -> None:
        self._stop(self._request_timer)
        self._request_timer = None
        super().on_message_complete()

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
    request_timeout: float = REQUEST_TIMEOUT, write_timeout: float = WRITE_TIMEOUT
) -> type[GuardedProtocol]:
    """The protocol class for ``uvicorn.run(http=...)`` with these timeouts."""
    return type(
        "GuardedProtocol",
        (GuardedProtocol,),
        {"request_timeout": request_timeout, "write_timeout": write_timeout},
    )


__all__ = ["REQUEST_TIMEOUT", "WRITE_TIMEOUT", "GuardedProtocol", "guarded_protocol"]
