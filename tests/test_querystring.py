"""server.protocol.querystring.parse_qsl reads every query string as urllib's
parse_qsl(keep_blank_values=True) does: escapes well and badly formed, "+", backslashes, UTF-8 cut
short, non-ASCII characters, empty fields and names without a value."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl as urllib_parse_qsl
from urllib.parse import quote

from server.protocol.querystring import parse_qsl

CASES = [
    "",
    "&",
    "query",
    "query=",
    "=x",
    "a=1&&b=2&",
    "query=" + quote('SELECT * WHERE { ?s ?p "济南\\n" } # 计划', safe=""),
    "query=a+b%2Bc",
    "q=%41%4a%4A%zz%4%",
    "q=%E6%B5%8E%E5",  # UTF-8 cut short: replaced
    "q=%FF%FE",
    "q=back\\slash\\x41%5Cx42",
    "q=\\",
    "q=済%E5%8D%97",  # a non-ASCII character as it is
    "a=b=c&d",
    "q=%00%0A%0d",
]


def test_the_cases_read_as_urllib_reads_them() -> None:
    for text in CASES:
        assert parse_qsl(text) == urllib_parse_qsl(text, keep_blank_values=True), text


def test_generated_strings_read_as_urllib_reads_them() -> None:
    pieces = ["%", "%4", "%41", "%e5", "%E5%8D%97", "%ZZ", "+", "&", "=", "\\", "\\x", "a", "济", " ", "%25"]
    rng = random.Random(20261203)
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert parse_qsl(text) == urllib_parse_qsl(text, keep_blank_values=True), text
