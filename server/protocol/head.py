"""HEAD for every GET route: the GET answer's status and headers, without its body (RFC 9110 §9.3.2).

FastAPI routes answer only the methods they name, so a route declared for GET refuses HEAD with 405.
:class:`HeadAsGet` runs a HEAD request as the GET it asks about and sends the status and every header
(``Content-Type``, ``Content-Length``, ``ETag``, ``Content-Encoding`` …) of the answer, then an empty
body. It sits outside the gzip middleware, so the headers are those a GET with the same
``Accept-Encoding`` gets. The inner app sees a copy of the scope, so logs and metrics say HEAD.

The copy carries :data:`HEAD_ONLY`: a route that serves a file answers with :class:`FileAnswer`, which
then sends the headers without opening the file (a HEAD on a dump of gigabytes read it whole and threw
it away). So that the gzip middleware between gives the headers of the GET, such a file (as large as a
read chunk or larger, which a GET gets in pieces) is announced as a body in pieces, empty ones; a smaller
file, which a GET gets in one piece that gzip may compress, is read as for the GET.
"""

from __future__ import annotations

import os

import anyio
from starlette.responses import FileResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEAD_ONLY = "plankg.head_only"  # in the scope HeadAsGet passes on: the body will be thrown away


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        # A copy: the server reads the same scope to know that a HEAD answer has no body (uvicorn
        # raised "Response content shorter than Content-Length" and dropped the connection when the
        # method was changed in place). The state dict is shared, so the access log sees the outcome.
        scope.setdefault("state", {})
        await self.app({**scope, "method": "GET", HEAD_ONLY: True}, receive, headers_only)


class FileAnswer(FileResponse):
    """A file, whose body is not read when the request is a HEAD that :class:`HeadAsGet` runs as GET."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not scope.get(HEAD_ONLY):
            await super().__call__(scope, receive, send)
            return
        stat = self.stat_result
        if stat is None:
            stat = await anyio.to_thread.run_sync(os.stat, self.path)
        if stat.st_size < self.chunk_size:
            # Sent in one piece, which the gzip middleware may compress: its length is known only
            # from the bytes, and one read of at most a chunk costs little.
            await super().__call__(scope, receive, send)
            return

        async def like_get(message: Message) -> None:
            if message["type"] == "http.response.body":
                await send({"type": "http.response.body", "body": b"", "more_body": True})
            await send(message)

        # Starlette's own HEAD: the same headers (length, validators, ranges), no file opened.
        await super().__call__({**scope, "method": "HEAD"}, receive, like_get)
