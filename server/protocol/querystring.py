"""Query strings and form bodies read as ``urllib.parse.parse_qsl(text, keep_blank_values=True)`` reads
them, with the percent-decoding done by C code where the text allows it.

urllib's ``unquote`` decodes each ``%XX`` escape in a Python loop: for a query text of a few
kilobytes with Chinese comments (every character three escapes) that was ~0.1 ms of the server
process's CPU per request. An ASCII text whose escapes are all well formed is decoded instead by
``codecs.escape_decode`` (every ``%`` written as ``\\x``, every backslash doubled first, so that no other
escape exists); anything else (a text with a non-ASCII character, a ``%`` not followed by two hex
digits) goes through urllib itself. Either way the result is urllib's (tests/test_querystring.py).
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote


def _unquote(text: str) -> str:
    """``urllib.parse.unquote(text)`` (UTF-8, undecodable bytes replaced)."""
    if "%" not in text:
        return text
    if not text.isascii():
        return unquote(text)
    try:
        escaped = text.encode("ascii").replace(b"\\", b"\\\\").replace(b"%", b"\\x")
        raw: bytes = codecs.escape_decode(escaped)[0]
    except ValueError:  # a "%" not followed by two hex digits: urllib keeps it as it is
        return unquote(text)
    return raw.decode("utf-8", "replace")


def parse_qsl(text: str) -> list[tuple[str, str]]:
    """``urllib.parse.parse_qsl(text, keep_blank_values=True)``: the (name, value) pairs of a query
    string or form body, in order, "+" read as a space."""
    pairs: list[tuple[str, str]] = []
    for field in text.split("&") if text else ():
        if not field:
            continue
        name, _, value = field.partition("=")
        pairs.append((_unquote(name.replace("+", " ")), _unquote(value.replace("+", " "))))
    return pairs


__all__ = ["parse_qsl"]
