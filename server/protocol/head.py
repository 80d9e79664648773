"""HEAD for every GET route: the GET answer's status and headers, without its body (RFC 9110 §9.3.2).

FastAPI routes answer only the methods they name, so a route declared for GET refuses HEAD with 405.
:class:`HeadAsGet` runs a HEAD request as the GET it asks about and sends the status and every header
(``Content-Type``, ``Content-Length``, ``ETag``, ``Content-Encoding`` …) of the answer, then an empty
body. It sits outside the gzip middleware, so the headers are those a GET with the same
``Accept-Encoding`` gets. The inner app sees a copy of the scope, so logs and metrics say HEAD.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
        await self.app({**scope, "method": "GET"}, receive, headers_only)
