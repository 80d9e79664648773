"""server.protocol.sparql.url_query: the query string as ``request.url.query`` gives it, without the URL."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from server.protocol import sparql
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


# The regex plain_query_string used before (what urlsplit strips or cuts from a URL): the reference.
URL_ODD = re.compile(r"[#\t\r\n]|[\x00-\x20]$")


@given(st.text(alphabet=st.sampled_from("a=&%#\t\r\n \x00\x1f\x20\x21~é济"), max_size=12))
def test_an_odd_query_string_is_found_as_the_regex_finds_it(query: str) -> None:
    assert sparql._url_odd(query) == (URL_ODD.search(query) is not None)


@pytest.mark.parametrize("raw", RAW)
def test_an_odd_query_string_of_the_table_is_found_as_the_regex_finds_it(raw: bytes) -> None:
    query = raw.decode()
    assert sparql._url_odd(query) == (URL_ODD.search(query) is not None)
