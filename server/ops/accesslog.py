"""The access log: one line per request (method, path, status, duration, outcome), and the metrics.

Profiled on distinct one-subject lookups (py-spy of ``plankg serve`` under wrk, session 6), the log
line was a tenth of the server's CPU: ``Logger.info`` looks up the caller's frame, the record asks for
the thread and process names, the message is %-formatted and the time string made anew for each line.
:class:`AccessLog` writes its message once, as text, and hands the record straight to the logger's
handlers (filters and levels apply as before; caplog and every handler see the same record);
:func:`configure` sets the server process's logging up as before (same format, same lines) without
the thread and multiprocessing names no format here shows (the ``logging`` module's documented
switches), and with a formatter that makes each second's time string once.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.metrics import Metrics, route_label

access_log = logging.getLogger("plankg.access")


class AccessLog:
    """Logs every request with its duration and outcome, and records it in the metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            seconds = time.perf_counter() - start
            outcome = scope.get("state", {}).get("outcome", "")
            record(self.metrics, route_label(scope), scope["method"], scope["path"], status, seconds, outcome)


def record(
    metrics: Metrics, route: str, method: str, path: str, status: int, seconds: float, outcome: str
) -> None:
    """A request's metrics and its log line (what :class:`AccessLog` records for every request; the
    protocol's fast path, server.protocol.fast, records its answers with it too)."""
    metrics.observe(route, method, status, seconds)
    if access_log.isEnabledFor(logging.INFO):
        message = f"{method} {path} {status} {seconds * 1000:.1f} ms"
        access_log.handle(
            access_log.makeRecord(
                access_log.name,
                logging.INFO,
                __file__,
                0,
                f"{message} {outcome}" if outcome else message,
                (),
                None,
            )
        )


class _Formatter(logging.Formatter):
    """``logging.Formatter`` whose default time string is made once a second (the same text)."""

    _second = -1
    _text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        msec_format = self.default_msec_format
        if datefmt is not None or msec_format is None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second
        return msec_format % (self._text, record.msecs)


def configure(fmt: str) -> None:
    """A server process's logging: INFO and up to standard error in ``fmt`` (``logging.basicConfig``)."""
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(_Formatter(fmt))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


__all__ = ["AccessLog", "access_log", "configure", "record"]
