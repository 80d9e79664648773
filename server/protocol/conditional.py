"""Conditional requests (RFC 9110 §13): whether a client's cached copy is still current."""

from __future__ import annotations

import email.utils

from starlette.requests import Request


def _etags(header: str) -> list[str]:
    """The entity tags of an If-None-Match header (weak ones compared weakly, RFC 9110 §13.1.2)."""
    tags = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag:
            tags.append(tag)
    return tags


def not_modified(request: Request, etag: str | None, mtime: float | None) -> bool:
    """Whether the client's copy is current: If-None-Match decides; without it, If-Modified-Since
    (when the resource has a modification time)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        return "*" in tags or (etag is not None and etag in tags)
    since = request.headers.get("if-modified-since")
    if since is None or mtime is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return int(mtime) <= when.timestamp()
