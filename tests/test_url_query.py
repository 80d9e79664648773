"""server.protocol.sparql.url_query: the query string as ``request.url.query`` gives it, without the URL."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from server.protocol.sparql import url_query

RAW = [
    b"",
    b"query=ASK%20%7B%7D",
    b"query=SELECT+*+WHERE+%7B%3Fs+%3Fp+%3Fo%7D&format=json&timeout=2",
    b"a=1&a=2&b",
    b"query=ASK%7B%7D?x=1",
    "query=ASK{} # 济南".encode(),
    b"query=ASK%7B%7D#fragment",
    b"query=a\tb\r\nc",
    b"query=trailing%20 ",
    b"query=x\x00",
    b"%ZZ=%",
]


@pytest.mark.parametrize("raw", RAW)
@pytest.mark.parametrize("host", [b"example.org", b"[::1]:8000", b"bad host", None])
def test_the_query_string_is_the_urls(raw: bytes, host: bytes | None) -> None:
    headers = [] if host is None else [(b"host", host)]
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": "/sparql",
        "query_string": raw,
        "headers": headers,
    }
    assert url_query(Request(scope)) == Request(scope).url.query
