"""gzip, CORS and the security headers in one pass (server.protocol.finishing) change nothing but the cost.

The reference is the stack the app had before: the security-header layer (as it was written, below)
over Starlette's CORSMiddleware over Starlette's GZipMiddleware, with the app's settings. Every answer
shape (small, large, in pieces, already encoded, partial, an image, a file sent by path, a route's own
security header, a Vary of its own) and every request shape (gzip or not, an Origin, a preflight) must
give the same messages, headers in the same order, through both.
"""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.security import SECURITY_HEADERS
from server.protocol.finishing import FinishAnswers

CORS: dict[str, Any] = {
    "allow_origins": ["*"],
    "allow_credentials": False,
    "allow_methods": ["GET", "HEAD", "POST", "OPTIONS"],
    "allow_headers": ["Accept", "Content-Type"],
    "expose_headers": ["X-Result-Rows", "Content-Disposition", "ETag"],
    "max_age": 3600,
}
LARGE = b'{"x":"' + b"plan " * 400 + b'"}'


class _OldSecurityHeaders:
    """server.ops.security.SecurityHeaders as it was (the layer this pass replaces)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.raw if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _old(app: ASGIApp) -> ASGIApp:
    return _OldSecurityHeaders(
        CORSMiddleware(GZipMiddleware(app, minimum_size=1000, compresslevel=5), **CORS)
    )


def _new(app: ASGIApp) -> ASGIApp:
    return FinishAnswers(app, minimum_size=1000, compresslevel=5, **CORS)


def _answer(
    status: int, headers: list[tuple[bytes, bytes]], *bodies: bytes, pathsend: bool = False
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        if pathsend:
            await send({"type": "http.response.pathsend", "path": "/nonexistent"})
            return
        for i, body in enumerate(bodies):
            await send({"type": "http.response.body", "body": body, "more_body": i < len(bodies) - 1})

    return app


def _ct(value: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", value)]


ANSWERS: dict[str, Callable[[Scope, Receive, Send], Awaitable[None]]] = {
    "small": _answer(200, [*_ct(b"application/json"), (b"content-length", b"4")], b"true"),
    "large": _answer(200, [*_ct(b"application/json"), (b"content-length", str(len(LARGE)).encode())], LARGE),
    "large, own vary": _answer(200, [*_ct(b"text/csv"), (b"vary", b"Accept"), (b"vary", b"Cookie")], LARGE),
    "in pieces": _answer(200, _ct(b"text/turtle"), b"a" * 10, LARGE, b""),
    "empty first piece": _answer(200, _ct(b"text/plain"), b"", b"x" * 2000),
    "encoded already": _answer(200, [*_ct(b"application/json"), (b"content-encoding", b"br")], LARGE),
    "partial": _answer(206, [*_ct(b"application/json"), (b"content-range", b"bytes 0-9/99")], LARGE),
    "image": _answer(200, _ct(b"image/png; q=1"), LARGE),
    "video wildcard": _answer(200, _ct(b"video/mp4"), LARGE),
    "by path": _answer(200, _ct(b"application/n-quads"), pathsend=True),
    "own referrer policy": _answer(200, [*_ct(b"text/html"), (b"referrer-policy", b"no-referrer")], b"<p>"),
    "error": _answer(404, _ct(b"application/problem+json"), b'{"title":"Not Found"}'),
}

REQUESTS: dict[str, tuple[str, list[tuple[bytes, bytes]]]] = {
    "plain": ("GET", []),
    "gzip": ("GET", [(b"accept-encoding", b"gzip, deflate")]),
    "origin": ("GET", [(b"origin", b"https://a.example")]),
    "origin and gzip": ("POST", [(b"origin", b"https://a.example"), (b"accept-encoding", b"gzip")]),
    "options, no preflight": ("OPTIONS", [(b"origin", b"https://a.example")]),
}


async def _run(app: ASGIApp, method: str, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": "/x",
        "headers": headers,
        "query_string": b"",
        "extensions": {"http.response.pathsend": {}},
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("request_name", REQUESTS)
def test_every_answer_is_as_the_three_layers_gave_it(answer: str, request_name: str) -> None:
    method, headers = REQUESTS[request_name]
    inner = ANSWERS[answer]
    old = anyio.run(_run, _old(inner), method, headers)
    new = anyio.run(_run, _new(inner), method, headers)
    assert new == old


@pytest.mark.parametrize(
    "headers",
    [
        [(b"origin", b"https://a.example"), (b"access-control-request-method", b"POST")],
        [
            (b"origin", b"https://a.example"),
            (b"access-control-request-method", b"GET"),
            (b"access-control-request-headers", b"X-Unknown"),
        ],
    ],
)
def test_a_preflight_is_answered_as_before_and_never_reaches_the_app(
    headers: list[tuple[bytes, bytes]],
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("a preflight reached the app")

    old = anyio.run(_run, _old(app), "OPTIONS", headers)
    new = anyio.run(_run, _new(app), "OPTIONS", headers)
    assert new == old
    assert dict(new[0]["headers"])[b"x-frame-options"] == b"DENY"


def test_gzip_refused_by_q_zero_is_not_used_and_a_large_answer_still_varies() -> None:
    for coding in (b"gzip;q=0", b"br, gzip;q=0.0, *;q=0"):
        start, body = anyio.run(_run, _new(ANSWERS["large"]), "GET", [(b"accept-encoding", coding)])
        headers = dict(start["headers"])
        assert b"content-encoding" not in headers
        assert body["body"] == LARGE
        assert headers[b"vary"] == b"Accept-Encoding, Origin"


def test_a_compressed_answer_decompresses_to_the_body_and_has_its_length() -> None:
    start, body = anyio.run(_run, _new(ANSWERS["large"]), "GET", [(b"accept-encoding", b"gzip")])
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert int(headers[b"content-length"]) == len(body["body"])
    assert gzip.decompress(body["body"]) == LARGE


def test_large_bodies_are_compressed_in_threads_of_the_layer_s_own_limiter() -> None:
    """A body past ``thread_minimum_size`` is compressed in a worker thread under the layer's own
    limiter (no module-wide one: each app its own), whatever event loop runs the layer, with more
    answers at once than the limiter has tokens; every answer is the body, gzipped."""
    layer = FinishAnswers(
        _answer(200, _ct(b"application/json"), LARGE), minimum_size=1000, thread_minimum_size=1000
    )
    other = FinishAnswers(_answer(200, _ct(b"application/json"), LARGE), thread_minimum_size=1000)
    assert layer.compressing is not other.compressing
    layer.compressing.total_tokens = 2

    async def many() -> list[list[Message]]:
        answers: list[list[Message]] = []

        async def one() -> None:
            answers.append(await _run(layer, "GET", [(b"accept-encoding", b"gzip")]))

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(one)
        return answers

    for _ in range(2):  # two event loops, one after the other, through the same layer
        answers = anyio.run(many)
        assert len(answers) == 8
        for sent in answers:
            assert dict(sent[0]["headers"])[b"content-encoding"] == b"gzip"
            assert gzip.decompress(sent[1]["body"]) == LARGE
    assert layer.compressing.borrowed_tokens == 0
