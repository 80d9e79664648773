"""Security headers on every answer: one table of headers (added by server.protocol.finishing).

The Content-Security-Policy fits what the server ships and nothing more: scripts only from this
server's own files (``/static``: the query page's script, YASGUI, swagger-ui and the script that
starts it) — no inline script, no ``eval``; styles from this server, inline style attributes allowed
(the bundled editors set them); images from this server and ``data:`` URIs (swagger-ui's icons);
fetches only to this server (YASGUI's queries, swagger-ui's ``openapi.json``); no plugins, no
framing by other sites (``frame-ancestors 'none'``). A header a route sets itself is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
}


__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS"]
