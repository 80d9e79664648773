"""The last pass over every answer: security headers, CORS and gzip in one ASGI layer.

These were three middleware layers (``SecurityHeaders``, Starlette's ``CORSMiddleware`` and a gzip
layer over Starlette's ``GZipMiddleware``), each wrapping ``send`` in a closure of its own and reading
the request's headers again; on a one-subject lookup the three cost about as much CPU as the query
itself (cProfile of the whole app, session 6). :class:`FinishAnswers` does their work in one ``send``
wrapper on the raw header list, and gives every answer the same headers they gave, in the same order:

* **gzip** (what the Starlette layer did, with ``Accept-Encoding`` read by
  :func:`server.protocol.negotiation.accepts_coding`, so ``gzip;q=0`` refuses it): a body sent in one
  piece shorter than ``minimum_size`` goes as it is; a longer one, or one in pieces, is compressed when
  the client takes gzip (``Content-Encoding``, ``Content-Length`` of the compressed bytes, none for a
  body in pieces) and gets ``Vary: Accept-Encoding`` either way. Nothing is compressed that already has
  a ``Content-Encoding``, is a 206, or has a media type that gains nothing from it (images, archives,
  event streams: Starlette's list). A body of ``thread_minimum_size`` or more is compressed in a thread.
* **CORS**, the policy the app gives (``allow_origins`` …): a preflight (``OPTIONS`` with ``Origin``
  and ``Access-Control-Request-Method``) is answered by Starlette's own preflight response; any other
  answer to a request with an ``Origin`` gets the simple-response headers, and every answer
  ``Vary: Origin`` (the explicit origin instead of ``*`` when credentials are allowed or origins are
  listed), as Starlette's layer gave them.
* **security headers** (:data:`server.ops.security.SECURITY_HEADERS`): each one the answer does not
  set itself.

A HEAD request reaches this layer as the GET it stands for (:mod:`server.protocol.head` sits outside),
so its headers are the GET's, compression included.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import anyio
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.security import SECURITY_HEADERS
from server.protocol.negotiation import accepts_coding

Raw = list[tuple[bytes, bytes]]

_EXCLUDED = frozenset(t.partition(";")[0].strip().lower() for t in DEFAULT_EXCLUDED_CONTENT_TYPES)


def _get(raw: Raw, name: bytes) -> bytes | None:
    for key, value in raw:
        if key == name:
            return value
    return None


def _set(raw: Raw, name: bytes, value: bytes) -> None:
    """``MutableHeaders.__setitem__``: the first entry of ``name`` replaced, its others removed, or one
    appended."""
    found = [i for i, (key, _) in enumerate(raw) if key == name]
    if not found:
        raw.append((name, value))
        return
    for i in reversed(found[1:]):
        del raw[i]
    raw[found[0]] = (name, value)


def _add_vary(raw: Raw, token: bytes) -> None:
    """``MutableHeaders.add_vary_header``: every Vary value and ``token`` joined into one entry."""
    _set(raw, b"vary", b", ".join([*(v for k, v in raw if k == b"vary"), token]))


def read_headers(headers: Sequence[tuple[bytes, bytes]]) -> tuple[str | None, bool, bool]:
    """What the finishing layer reads of a request's headers: its first ``Origin``, whether it takes
    gzip (its first ``Accept-Encoding``), and whether it asks a CORS preflight's method."""
    origin: bytes | None = None
    coding: bytes | None = None
    preflight = False
    for key, value in headers:
        if key == b"origin":
            origin = value if origin is None else origin
        elif key == b"accept-encoding":
            coding = value if coding is None else coding
        elif key == b"access-control-request-method":
            preflight = True
    text = None if coding is None else coding.decode("latin-1")
    gzip = text is not None and "gzip" in text.lower() and accepts_coding(text, "gzip")
    return (None if origin is None else origin.decode("latin-1")), gzip, preflight


def excluded(raw: Raw) -> bool:
    """Whether an answer with these headers is sent as it is (encoded already, partial, or of a media
    type that does not compress)."""
    if _get(raw, b"content-encoding") is not None:
        return True
    media_type = (_get(raw, b"content-type") or b"").decode("latin-1").partition(";")[0].strip().lower()
    if media_type in _EXCLUDED or media_type.partition("/")[0] + "/*" in _EXCLUDED:
        return True
    return media_type.startswith("application/grpc+") and "application/grpc" in _EXCLUDED


class FinishAnswers:
    """ASGI middleware: gzip, CORS and security headers on every HTTP answer, in one pass (see the
    module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        minimum_size: int = 500,
        compresslevel: int = 9,
        thread_minimum_size: int = 128 * 1024,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
        security_headers: Mapping[str, str] = SECURITY_HEADERS,
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.thread_minimum_size = thread_minimum_size
        self.compressing = anyio.CapacityLimiter(40)  # threads compressing large bodies, this app's own
        # Starlette's layer, kept for its policy: the preflight answer and which origins are allowed.
        self.cors = CORSMiddleware(
            app,
            allow_origins=allow_origins,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials,
            expose_headers=expose_headers,
            max_age=max_age,
        )
        self.cors_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.cors.simple_headers.items()
        ]
        self.security = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in security_headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin, gzip, preflight = read_headers(scope["headers"])
        if origin is not None and preflight and scope["method"] == "OPTIONS":
            # Starlette's preflight answer (it never reaches the app), with the security headers.
            async def secured(message: Message) -> None:
                if message["type"] == "http.response.start":
                    raw: Raw = list(message.get("headers", ()))
                    present = {key for key, _ in raw}
                    raw.extend(item for item in self.security if item[0] not in present)
                    message = {**message, "headers": raw}
                await send(message)

            await self.cors(scope, receive, secured)
            return
        answer = _Answer(self, send, origin, gzip)
        await self.app(scope, receive, answer.send)

    def finish_whole(self, raw: Raw, body: bytes, origin: str | None, gzip: bool) -> bytes | None:
        """The body to send of an answer sent in one piece (not excluded, not a 206, no trailers),
        its ``raw`` headers finished in place: gzip's, then CORS and the security headers. None, and
        the headers untouched, when the body is to be compressed in a thread (as long as
        ``thread_minimum_size`` or longer)."""
        if len(body) >= self.minimum_size:
            if gzip and len(body) >= self.thread_minimum_size:
                return None
            _add_vary(raw, b"Accept-Encoding")
            if gzip:
                compressor = zlib.compressobj(self.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                compressed = compressor.compress(body) + compressor.flush()
                if compressed != body:
                    _set(raw, b"content-encoding", b"gzip")
                    _set(raw, b"content-length", str(len(compressed)).encode("latin-1"))
                    body = compressed
        self.finish(raw, origin)
        return body

    def finish(self, raw: Raw, origin: str | None) -> None:
        """The CORS and security headers added to an answer's ``raw`` headers (after gzip's)."""
        if origin is not None:
            for key, value in self.cors_headers:
                _set(raw, key, value)
            cors = self.cors
            if (cors.allow_all_origins and cors.allow_credentials) or (
                not cors.allow_all_origins and cors.is_allowed_origin(origin=origin)
            ):
                _set(raw, b"access-control-allow-origin", origin.encode("latin-1"))
        _add_vary(raw, b"Origin")
        present = {key for key, _ in raw}
        raw.extend(item for item in self.security if item[0] not in present)


class _Answer:
    """One answer's way through :class:`FinishAnswers`: the start message is held until the first
    body message shows whether to compress."""

    __slots__ = ("compressor", "gzip", "layer", "origin", "send_on", "start")

    def __init__(self, layer: FinishAnswers, send: Send, origin: str | None, gzip: bool) -> None:
        self.layer = layer
        self.send_on = send
        self.origin = origin
        self.gzip = gzip
        self.start: Message | None = None
        self.compressor: zlib._Compress | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            raw: Raw = list(message.get("headers", ()))
            message = {**message, "headers": raw}
            if message["status"] == 206 or excluded(raw):
                self.layer.finish(raw, self.origin)
                await self.send_on(message)
                return
            self.start = message
            return
        start = self.start
        if start is None or kind not in ("http.response.body", "http.response.pathsend"):
            # Passed through, or already started (the rest of a body in pieces, trailers, early hints).
            if kind == "http.response.body" and self.compressor is not None:
                more = message.get("more_body", False)
                message = {**message, "body": await self._compress(message.get("body", b""), more)}
            await self.send_on(message)
            return
        self.start = None
        raw = start["headers"]
        if kind == "http.response.pathsend":  # a file sent by the server: never compressed
            self.layer.finish(raw, self.origin)
            await self.send_on(start)
            await self.send_on(message)
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and not start.get("trailers", False):
            whole = self.layer.finish_whole(raw, body, self.origin, self.gzip)
            if whole is not None:
                await self.send_on(start)
                await self.send_on(message if whole is body else {**message, "body": whole})
                return
        if len(body) >= self.layer.minimum_size or more:
            _add_vary(raw, b"Accept-Encoding")
            if self.gzip:
                compressed = await self._compress(body, more)
                if compressed != body:
                    _set(raw, b"content-encoding", b"gzip")
                    if more or start.get("trailers", False):
                        raw[:] = [(k, v) for k, v in raw if k != b"content-length"]
                    else:
                        _set(raw, b"content-length", str(len(compressed)).encode("latin-1"))
                    message = {**message, "body": compressed}
        self.layer.finish(raw, self.origin)
        await self.send_on(start)
        await self.send_on(message)

    async def _compress(self, body: bytes, more: bool) -> bytes:
        if len(body) >= self.layer.thread_minimum_size:
            return await anyio.to_thread.run_sync(self._deflate, body, more, limiter=self.layer.compressing)
        return self._deflate(body, more)

    def _deflate(self, body: bytes, more: bool) -> bytes:
        if self.compressor is None:
            self.compressor = zlib.compressobj(self.layer.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        if more:
            return self.compressor.compress(body) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        return self.compressor.compress(body) + self.compressor.flush()


__all__ = ["FinishAnswers"]
