"""On-the-fly gzip that honours ``Accept-Encoding`` q-values.

Starlette's :class:`GZipMiddleware` compresses whenever the header mentions "gzip", even as
``gzip;q=0`` (which refuses it). :class:`GZip` decides with :func:`server.protocol.negotiation.accepts_coding`
and, when gzip is not acceptable, hides the gzip entries of the header from the middleware.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send

from server.protocol.negotiation import accepts_coding, parse_qlist


class GZip(GZipMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = Headers(scope=scope).get("accept-encoding")
            if header is not None and "gzip" in header.lower() and not accepts_coding(header, "gzip"):
                scope = {**scope, "headers": _without_gzip(scope["headers"])}
        await super().__call__(scope, receive, send)


def _without_gzip(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The raw headers with the gzip codings dropped from Accept-Encoding."""
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if name.lower() == b"accept-encoding":
            codings = [
                f"{token};q={q:g}" for token, q in parse_qlist(value.decode("latin-1")) if "gzip" not in token
            ]
            value = ", ".join(codings).encode("latin-1")
        kept.append((name, value))
    return kept
