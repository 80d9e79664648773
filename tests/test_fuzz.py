"""Property-based tests (hypothesis), derandomized: the same examples every run.

The document reader, the number reader, Accept negotiation and the protocol's request reader meet
arbitrary input and answer with their result or their own error (never another exception); a grammar
of SPARQL queries is run against the real server: no 5xx but the documented 503, and no query worker
lost or added. PLANKG_FUZZ_EXAMPLES multiplies the examples (`make fuzz` runs the longer campaign).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping.errors import DocumentError
from mapping.numbers import parse_number, parse_range
from mapping.parser import parse_plan
from server.errors import NotAcceptable
from server.protocol import formats as fmts
from server.protocol.formats import Kind
from server.protocol.negotiation import negotiate, parse_accept
from tests.browser.harness import serve_plan
from tests.conftest import BuiltPlan, TestClient
from tests.sparql_grammar import queries

SCALE = int(os.environ.get("PLANKG_FUZZ_EXAMPLES", "1"))
FUZZ = settings(
    derandomize=True, deadline=None, max_examples=100 * SCALE, suppress_health_check=list(HealthCheck)
)
SEED = next((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt")).read_text(encoding="utf-8")
PLANISH = '一二三四五六七八九十百千万亿两〇、（）()。：；，计划方案年月亿元个%—～至0123456789 \n"“”《》'


# --- the document reader ------------------------------------------------------------------------


@st.composite
def mutated_seeds(draw: st.DrawFn) -> str:
    """The seed with slices deleted, repeated or replaced by plan-like characters."""
    text = SEED
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 400)))
        how = draw(st.sampled_from(["delete", "repeat", "replace"]))
        if how == "delete":
            text = text[:i] + text[j:]
        elif how == "repeat":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + draw(st.text(alphabet=PLANISH, max_size=30)) + text[j:]
    return text


documents = st.one_of(st.text(max_size=300), st.text(alphabet=PLANISH, max_size=300), mutated_seeds())


@FUZZ
@given(documents)
def test_any_text_is_a_plan_or_a_document_error_with_its_place(text: str) -> None:
    try:
        plan = parse_plan(text, source_name="fuzz.txt")
    except DocumentError as exc:
        where = exc.location
        assert where.source == "fuzz.txt"
        assert 1 <= where.line <= text.count("\n") + 1
        assert where.column >= 1
        assert 0 <= where.offset <= len(text)
        assert str(exc).startswith(f"fuzz.txt:{where.line}:{where.column}: ")
    else:
        assert plan.title  # a plan always has its title
        assert plan.source_length == len(text)
        for span in (plan.title_span, *(t.span for t in plan.tasks), *(p.span for p in plan.pillars)):
            assert span.end <= len(text)
            assert text[span.start : span.end] == span.quote  # every span quotes the text as given


# --- numbers ------------------------------------------------------------------------------------


@FUZZ
@given(
    st.text(alphabet="0123456789.一二三四五六七八九十百千万亿两〇零０１２３４５６７８９．~—至- ", max_size=12)
)
def test_any_number_text_is_a_decimal_or_a_value_error(text: str) -> None:
    try:
        low, high = parse_range(text)
    except ValueError:
        return
    assert isinstance(low, Decimal) and isinstance(high, Decimal)
    assert low <= high


@FUZZ
@given(st.integers(0, 10**12), st.sampled_from(["", "万", "亿"]), st.booleans())
def test_arabic_numbers_read_as_themselves(n: int, multiplier: str, full_width: bool) -> None:
    text = str(n)
    if full_width:
        text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    factor = {"": 1, "万": 10**4, "亿": 10**8}[multiplier]
    assert parse_number(text + multiplier) == Decimal(n) * factor


# --- Accept negotiation -------------------------------------------------------------------------

MEDIA = [mt for f in fmts.FORMATS for mt in f.media_types] + ["*/*", "text/*", "application/*", "image/png"]
ranges = st.tuples(st.sampled_from(MEDIA), st.sampled_from([None, "0", "0.1", "0.5", "0.9", "1", "0.001"]))


def header(items: list[tuple[str, str | None]]) -> str:
    return ", ".join(mt if q is None else f"{mt};q={q}" for mt, q in items)


@FUZZ
@given(st.text(max_size=80))
def test_any_accept_header_parses(text: str) -> None:
    for r in parse_accept(text):
        assert 0 <= r.q <= 1


@FUZZ
@given(st.lists(ranges, min_size=1, max_size=6, unique_by=lambda r: r[0]), st.randoms(use_true_random=False))
def test_the_chosen_format_does_not_depend_on_the_order_of_the_ranges(
    items: list[tuple[str, str | None]], rnd: random.Random
) -> None:
    offers = fmts.formats_for(Kind.RESULTS)
    shuffled = items[:]
    rnd.shuffle(shuffled)

    def choose(text: str) -> str | None:
        try:
            return negotiate(text, offers).name
        except NotAcceptable:
            return None

    assert choose(header(items)) == choose(header(shuffled))


# --- the request reader -------------------------------------------------------------------------

PARAMS = ["query", "update", "format", "timeout", "default-graph-uri", "named-graph-uri", "x"]
query_strings = st.lists(
    st.tuples(
        st.sampled_from(PARAMS), st.one_of(st.text(max_size=20), st.sampled_from(["ASK {}", "json", "1"]))
    ),
    max_size=5,
)


@FUZZ
@given(query_strings, st.sampled_from(["GET", "POST-form", "POST-query", "POST-other"]))
def test_any_request_is_answered_without_a_server_error(
    plan_client: TestClient, pairs: list[tuple[str, str]], how: str
) -> None:
    if how == "GET":
        r = plan_client.get("/sparql", params=pairs)
    elif how == "POST-form":
        r = plan_client.post("/sparql", data=dict(pairs))
    elif how == "POST-query":
        body = dict(pairs).get("query", "ASK {}")
        r = plan_client.post(
            "/sparql", content=body.encode(), headers={"Content-Type": "application/sparql-query"}
        )
    else:
        r = plan_client.post("/sparql", content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code < 500 or r.status_code == 503, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"]


# --- SPARQL from a grammar against the running server -------------------------------------------


def workers_of(port: int) -> set[int]:
    """PIDs of the query workers: the children of the server listening on ``port``."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            procs[int(entry.name)] = (cmd, ppid)
    servers = [pid for pid, (cmd, _) in procs.items() if b"server.cli" in cmd and str(port).encode() in cmd]
    assert len(servers) == 1, servers
    return {pid for pid, (_, ppid) in procs.items() if ppid == servers[0]}


@pytest.fixture(scope="module")
def origin(built_plan: BuiltPlan) -> Iterator[str]:
    # One server process: its children are exactly the query workers the test counts.
    with serve_plan(built_plan.settings.store_dir, built_plan.dist, processes=1) as url:
        yield url


@pytest.mark.slow
def test_grammar_queries_get_no_server_error_and_leak_no_worker(origin: str) -> None:
    port = int(origin.rsplit(":", 1)[1])
    before = workers_of(port)
    assert len(before) == 2
    statuses: dict[int, int] = {}

    with httpx.Client(timeout=60) as client:

        @FUZZ
        @given(queries(), st.sampled_from([None, "json", "xml", "csv", "turtle", "nquads"]), st.booleans())
        def run(query: str, fmt: str | None, post: bool) -> None:
            params = {"format": fmt} if fmt else {}
            if post:
                r = client.post(origin + "/sparql", data={"query": query, **params})
            else:
                r = client.get(origin + "/sparql", params={"query": query, **params})
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code in (200, 406, 429, 503), (r.status_code, r.text, query)

        run()
    assert statuses.get(200, 0) > 0.5 * sum(statuses.values()), statuses
    assert workers_of(port) == before  # the same processes: none died, none leaked
