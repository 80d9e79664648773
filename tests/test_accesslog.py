"""The access log's cheaper path (server.ops.accesslog) writes the lines the logging module wrote."""

from __future__ import annotations

import logging
import re

import anyio
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.accesslog import AccessLog, _Formatter
from server.ops.metrics import Metrics
from server.ops.processes import LOG_FORMAT


def _request(app: ASGIApp, path: str) -> None:
    """One GET of ``path`` through AccessLog over ``app``."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    scope: Scope = {"type": "http", "method": "GET", "path": path, "headers": [], "state": {}}
    anyio.run(AccessLog(app, Metrics()), scope, receive, send)


@pytest.mark.parametrize(
    "created", [0.0, 1_764_763_200.0, 1_764_763_200.999, 1_764_763_201.5, 1_764_763_200.25]
)
def test_the_time_string_made_once_a_second_is_the_formatters(created: float) -> None:
    ours, theirs = _Formatter(LOG_FORMAT), logging.Formatter(LOG_FORMAT)
    for at in (created, created + 0.001, created + 1.0, created):
        record = logging.LogRecord("plankg.access", logging.INFO, __file__, 1, "GET / 200", None, None)
        record.created, record.msecs = at, (at - int(at)) * 1000
        assert ours.format(record) == theirs.format(record)


def test_each_request_is_one_record_with_the_old_message(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["outcome"] = "solutions, 3 rows as json"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    with caplog.at_level(logging.INFO, logger="plankg.access"):
        _request(app, "/sparql")
    (record,) = [r for r in caplog.records if r.name == "plankg.access"]
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert re.fullmatch(r"GET /sparql 200 \d+\.\d ms solutions, 3 rows as json", message)


def test_no_record_when_the_level_is_above_info(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with caplog.at_level(logging.WARNING, logger="plankg.access"):
        _request(app, "/")
    assert [r for r in caplog.records if r.name == "plankg.access"] == []
