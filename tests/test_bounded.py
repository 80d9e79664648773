"""The bounded lane (server.stores.bounded): which queries the server process answers itself, that its
answers are the workers' answers byte for byte, and that nothing hostile ever takes it.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.app import create_app
from server.errors import QuerySyntaxError, TooManyRequests, TooManyRows
from server.ops.fairness import Limits, LocalLimiter
from server.protocol import formats as fmts
from server.protocol.sparql import QueryRequest, run_bounded
from server.settings import Settings
from server.stores import bounded, oxigraph
from server.stores.bounded import is_bounded, lane_shape
from server.stores.interface import FormatChoice
from server.stores.oxigraph import OxigraphStore
from tests.test_timeout import computing

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
EX = "PREFIX ex: <http://example.org/>\n"
HOSTILE = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(12)) + " }"

IN_THE_LANE = [
    EX + "SELECT ?p ?o WHERE { ex:plan ?p ?o }",
    EX + "SELECT * { ex:plan ?p ?o . }",
    EX + "select ?s where { ?s ex:partOf ex:plan } limit 1",
    EX + 'SELECT ?s WHERE { ?s ex:label "推进山东大学节能改造"@zh }',
    EX + 'SELECT ?s WHERE { ?s ?p "2023"^^<http://www.w3.org/2001/XMLSchema#gYear> }',
    EX + "SELECT ?s WHERE { ?s ex:tasks 24 }",
    EX + "ASK { ex:task1 a ex:Task }",
    "BASE <http://example.org/>\nSELECT ?o WHERE { <plan> ?p ?o } # a comment\n",
    "SELECT ?o WHERE { <http://example.org/plan> <http://example.org/title> ?o }",
    "PREFIX : <http://example.org/>\nSELECT $o WHERE { :plan :title $o }",
    EX + "SELECT ?nowhere WHERE { ex:plan ?p ?o }",  # unbound in every row: still one row per triple
]

NOT_IN_THE_LANE = {
    "the hostile cross product": HOSTILE,
    "no constant": "SELECT * WHERE { ?s ?p ?o }",
    "only the predicate constant": EX + "SELECT ?s ?o WHERE { ?s ex:title ?o }",
    "two patterns": EX + "SELECT * WHERE { ex:plan ?p ?o . ?o ?q ?r }",
    "a property path": EX + "SELECT * WHERE { ex:plan ex:partOf* ?o }",
    "an inverse path": EX + "SELECT * WHERE { ex:plan ^ex:partOf ?o }",
    "a sequence path": EX + "SELECT * WHERE { ?s ex:partOf/ex:title ?o }",
    "a variable repeated": EX + "SELECT * WHERE { ex:plan ?p ?p }",
    "the same variable as $ and ?": EX + "SELECT * WHERE { ex:plan ?x $x }",
    "regex over everything": 'SELECT * WHERE { ?s ?p ?o FILTER(REGEX(STR(?o), "(a+)+b")) }',
    "a filter": EX + 'SELECT * WHERE { ex:plan ?p ?o FILTER(REGEX(STR(?o), "(a+)+b")) }',
    "DISTINCT": EX + "SELECT DISTINCT ?p WHERE { ?s ?p ex:plan }",
    "REDUCED": EX + "SELECT REDUCED ?p WHERE { ?s ?p ex:plan }",
    "OFFSET": EX + "SELECT ?s WHERE { ?s ?p ex:plan } OFFSET 1000000",
    "ORDER BY": EX + "SELECT ?o WHERE { ex:plan ?p ?o } ORDER BY ?o",
    "GROUP BY": EX + "SELECT ?p (COUNT(*) AS ?n) WHERE { ex:plan ?p ?o } GROUP BY ?p",
    "an aggregate": EX + "SELECT (COUNT(*) AS ?n) WHERE { ex:plan ?p ?o }",
    "a sub-select": EX + "SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } } }",
    "OPTIONAL": EX + "SELECT * WHERE { ex:plan ?p ?o OPTIONAL { ?o ?q ?r } }",
    "UNION": EX + "SELECT * WHERE { { ex:plan ?p ?o } UNION { ?s ?p ?o } }",
    "VALUES": EX + "SELECT * WHERE { ex:plan ?p ?o } VALUES ?o { 1 }",
    "BIND": EX + "SELECT * WHERE { ex:plan ?p ?o BIND(1 AS ?x) }",
    "GRAPH": EX + "SELECT * WHERE { GRAPH ?g { ex:plan ?p ?o } }",
    "FROM": EX + "SELECT * FROM ex:extra WHERE { ex:plan ?p ?o }",
    "SERVICE": EX + "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ex:plan ?p ?o } }",
    "a blank node subject": EX + "SELECT * WHERE { [] ex:partOf ?o }",
    "a labelled blank node": EX + "SELECT * WHERE { _:b ex:partOf ex:plan }",
    "a predicate-object list": EX + "SELECT * WHERE { ex:plan ?p ?o ; ?q ?r }",
    "an object list": EX + "SELECT * WHERE { ?s ex:partOf ex:plan , ?o }",
    "a quoted triple": EX + "SELECT * WHERE { << ex:a ex:b ex:c >> ?p ?o }",
    "CONSTRUCT": EX + "CONSTRUCT WHERE { ex:plan ?p ?o }",
    "DESCRIBE": EX + "DESCRIBE ex:plan",
    "an update": EX + "INSERT DATA { ex:a ex:b ex:c }",
    "a \\u escape": "SELECT * WHERE { <http://example.org/plan> ?p ?o } #\\u0020",
    "a non-ASCII variable": EX + "SELECT ?変 WHERE { ex:plan ?p ?変 }",
    "a long string": EX + 'SELECT ?s WHERE { ?s ex:label """x""" }',
    "a literal subject": 'SELECT * WHERE { "x" ?p ?o }',
    "LIMIT with an expression": EX + "SELECT ?o WHERE { ex:plan ?p ?o } LIMIT ?x",
    "two queries' worth": EX + "SELECT ?o WHERE { ex:plan ?p ?o } SELECT ?o WHERE { ?s ?p ?o }",
    "an unclosed group": EX + "SELECT ?o WHERE { ex:plan ?p ?o",
    "a no-break space": EX + "SELECT ?o WHERE {\u00a0ex:plan ?p ?o }",
}


@pytest.mark.parametrize("query", IN_THE_LANE)
def test_a_one_pattern_lookup_anchored_on_a_constant_is_in_the_lane(query: str) -> None:
    assert is_bounded(query)
    assert is_bounded(query + "\n#bench-1")  # the bench's distinct texts end in a comment


@pytest.mark.parametrize("name", sorted(NOT_IN_THE_LANE))
def test_anything_else_goes_to_the_workers(name: str) -> None:
    assert not is_bounded(NOT_IN_THE_LANE[name])


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif hasattr(value, "values") and hasattr(value, "marks"):  # pytest.param(...)
        yield from _strings(list(value.values))


# The only query texts of the safety, timeout and protocol tests that the lane's grammar accepts: each
# a one-pattern lookup, the SERVICE or INSERT in it inside a string (and those mentioning SERVICE are
# left to the workers' path anyway, test below).
BENIGN = {
    'SELECT * WHERE { ?s ?p "a SERVICE in a string" }',
    "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#> SELECT * WHERE { ?s a sd:Service }",
    'SELECT * WHERE { ?s ?p "a>b SERVICE <http://x.example/> { }" }',
    "SELECT * WHERE { ?s ?p 'SERVICE <http://x.example/>' }",
    'ASK { ?s ?p "INSERT DATA" }',
    "SELECT * WHERE { ?s ?p 'service silent <x> { }' }",
}


def test_the_queries_of_the_safety_and_timeout_tests_never_take_the_lane() -> None:
    """Every query text the timeout, safety and protocol tests send (hostile, refused or not)."""
    import inspect

    from tests import test_safety, test_safety_layers, test_safety_silent, test_sparql_protocol, test_timeout

    texts: list[str] = []
    for module in (test_safety, test_safety_layers, test_safety_silent, test_timeout, test_sparql_protocol):
        for value in vars(module).values():
            if isinstance(value, str):
                texts.append(value)
            elif inspect.isfunction(value):
                for mark in getattr(value, "pytestmark", []):
                    if mark.name == "parametrize":
                        texts += _strings(list(mark.args[1]))
    texts = [t for t in texts if "{" in t]
    assert len(texts) >= 50
    assert {t for t in texts if is_bounded(t)} == BENIGN


def test_a_text_that_mentions_service_is_left_to_the_workers_path() -> None:
    store = OxigraphStore(None, data_files=[SAMPLE], workers=1)
    try:
        req = QueryRequest(query='SELECT * WHERE { ?s ?p "a SERVICE in a string" }')
        assert is_bounded(req.query)
        assert run_bounded(store, Settings(), req, CHOICES[0]) is None
        req = QueryRequest(query=EX + "SELECT ?o WHERE { ex:plan ?p ?o }")
        outcome = run_bounded(store, Settings(), req, CHOICES[0])
        assert outcome is not None and outcome.rows == 7
    finally:
        store.close()


@pytest.fixture(scope="module")
def store() -> Iterator[OxigraphStore]:
    s = OxigraphStore(None, data_files=[SAMPLE], workers=1)
    yield s
    s.close()


CHOICES = [
    FormatChoice(results=fmts.SPARQL_JSON, graph=None),
    FormatChoice(results=fmts.SPARQL_XML, graph=None),
    FormatChoice(results=fmts.CSV, graph=None),
    FormatChoice(results=fmts.TSV, graph=None),
    FormatChoice(results=fmts.CSV_EXCEL, graph=None),
]


@pytest.mark.parametrize("query", IN_THE_LANE)
def test_lane_answers_are_the_workers_answers_byte_for_byte(store: OxigraphStore, query: str) -> None:
    for choice in CHOICES:
        lane = store.query_bounded(query, formats=choice, max_rows=100)
        worker = store.query(query, formats=choice, max_rows=100)
        assert lane is not None
        assert (lane.kind, lane.rows, lane.format, lane.build_id) == (
            worker.kind,
            worker.rows,
            worker.format,
            worker.build_id,
        )
        assert lane.body == worker.body


def test_golden_answer_of_the_lane(store: OxigraphStore) -> None:
    lane = store.query_bounded(
        EX + "SELECT ?s WHERE { ?s ex:partOf ex:plan }", formats=CHOICES[2], max_rows=100
    )
    assert lane is not None and lane.body is not None
    assert sorted(lane.body.decode().split("\r\n")) == [
        "",
        "http://example.org/task1",
        "http://example.org/task2",
        "s",
    ]


def test_a_dataset_or_bindings_or_a_query_outside_the_lane_get_no_lane_answer(store: OxigraphStore) -> None:
    lookup = EX + "SELECT ?o WHERE { ex:plan ?p ?o }"
    choice = CHOICES[0]
    assert (
        store.query_bounded(lookup, formats=choice, default_graph_uris=["http://example.org/extra"]) is None
    )
    assert store.query_bounded(lookup, formats=choice, named_graph_uris=["http://example.org/extra"]) is None
    from server.protocol.results import Iri

    assert store.query_bounded(lookup, formats=choice, bindings={"o": Iri("http://example.org/x")}) is None
    assert store.query_bounded(HOSTILE, formats=choice) is None


def test_past_the_lane_s_rows_the_workers_answer_and_the_row_limit_is_the_same(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup = EX + "SELECT ?p ?o WHERE { ex:plan ?p ?o }"  # seven rows
    monkeypatch.setattr(oxigraph, "BOUNDED_ROWS", 3)
    assert store.query_bounded(lookup, formats=CHOICES[0], max_rows=100) is None  # a worker's job
    assert store.query(lookup, formats=CHOICES[0], max_rows=100).rows == 7
    # A row limit below the lane's: the same refusal as a worker's.
    with pytest.raises(TooManyRows) as lane:
        store.query_bounded(lookup, formats=CHOICES[0], max_rows=2)
    with pytest.raises(TooManyRows) as worker:
        store.query(lookup, formats=CHOICES[0], max_rows=2)
    assert str(lane.value) == str(worker.value)
    assert "more than 2 rows" in str(lane.value)


class _Spy:
    """The lane's engine handle, recording the texts it is given."""

    def __init__(self, handle: object) -> None:
        self.handle = handle
        self.texts: list[str] = []

    def query(self, text: str, **options: object) -> object:
        self.texts.append(text)
        return self.handle.query(text, **options)  # type: ignore[attr-defined]


def test_the_engine_writing_the_lane_s_json_reads_one_row_past_the_lane_s_limit(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Spy(store._pool.bounded)
    monkeypatch.setattr(store._pool, "bounded", spy)
    monkeypatch.setattr(oxigraph, "BOUNDED_ROWS", 3)
    lookup = EX + "SELECT ?p ?o WHERE { ex:plan ?p ?o } # seven rows"
    assert store.query_bounded(lookup, formats=CHOICES[0], max_rows=100) is None  # a worker's job
    assert spy.texts[-1] == lookup + "\nLIMIT 4"  # after the comment's line, never more rows than that
    with pytest.raises(TooManyRows, match="more than 2 rows"):
        store.query_bounded(lookup, formats=CHOICES[0], max_rows=2)
    assert spy.texts[-1] == lookup + "\nLIMIT 3"
    # A LIMIT of its own within the lane's: the text as it is, and the engine's JSON is the answer.
    two = EX + "SELECT ?p ?o WHERE { ex:plan ?p ?o } LIMIT 2"
    outcome = store.query_bounded(two, formats=CHOICES[0], max_rows=100)
    assert spy.texts[-1] == two
    assert outcome is not None and outcome.rows == 2
    assert outcome.body == store.query(two, formats=CHOICES[0], max_rows=100).body
    # A larger LIMIT of its own: read row by row up to the lane's limit, as any other format.
    fifty = EX + "SELECT ?p ?o WHERE { ex:plan ?p ?o } LIMIT 50"
    assert store.query_bounded(fifty, formats=CHOICES[0], max_rows=100) is None
    assert spy.texts[-1] == fifty
    assert store.query_bounded(lookup, formats=CHOICES[2], max_rows=100) is None
    assert spy.texts[-1] == lookup


def test_a_syntax_error_in_the_lane_is_the_workers_error(store: OxigraphStore) -> None:
    undeclared = "SELECT ?o WHERE { nope:plan ?p ?o }"
    assert is_bounded(undeclared)
    with pytest.raises(QuerySyntaxError) as lane:
        store.query_bounded(undeclared, formats=CHOICES[0])
    with pytest.raises(QuerySyntaxError) as worker:
        store.query(undeclared, formats=CHOICES[0])
    assert str(lane.value) == str(worker.value)


def test_lane_queries_are_answered_while_the_worker_is_busy_and_the_hostile_query_still_stops() -> None:
    """One worker, held by the hostile query: a lookup in the lane is answered at once; the same
    lookup with a path (not in the lane) waits for a worker; the hostile query is stopped at the
    limit with 503 as ever."""
    settings = Settings(
        data_files=(SAMPLE,),
        without_plan=True,
        query_timeout=4.0,
        query_workers=1,
        client_queries=10,  # one client (the test's) runs both queries at once
        client_heavy_seconds=0,
    )
    with TestClient(create_app(settings)) as client:
        outcome: dict[str, int] = {}

        def hostile() -> None:
            outcome["status"] = client.get("/sparql", params={"query": HOSTILE}).status_code

        store = client.app.state.store  # type: ignore[attr-defined]
        thread = threading.Thread(target=hostile)
        thread.start()
        computing(store.worker_pids())  # the hostile query holds the only worker
        start = time.monotonic()
        r = client.get(
            "/sparql",
            params={"query": EX + "SELECT ?s WHERE { ?s ex:partOf ex:plan }"},
            headers={"Accept": "text/csv"},
        )
        assert thread.is_alive()  # answered while the hostile query still holds the only worker
        assert time.monotonic() - start < 3.0
        assert r.status_code == 200
        assert sorted(r.text.split("\r\n")) == [
            "",
            "http://example.org/task1",
            "http://example.org/task2",
            "s",
        ]
        assert r.headers["x-result-rows"] == "2"
        r = client.get(
            "/sparql",
            params={"query": EX + "SELECT ?s WHERE { ?s ex:partOf+ ex:plan }", "timeout": "0.5"},
            headers={"Accept": "text/csv"},
        )
        assert r.status_code == 503  # no worker free within its limit: it was not in the lane
        thread.join()
        assert outcome["status"] == 503


def test_the_lane_can_be_switched_off() -> None:
    settings = Settings(data_files=(SAMPLE,), without_plan=True, bounded_lane=False)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        assert store.query_bounded(EX + "SELECT ?o WHERE { ex:plan ?p ?o }") is None
        r = client.get("/sparql", params={"query": EX + "SELECT ?o WHERE { ex:plan ?p ?o }"})
        assert r.status_code == 200
        assert r.headers["x-result-rows"] == "7"


def test_a_lane_query_takes_no_slot_but_the_client_s_budget_applies() -> None:
    now = [1000.0]
    limiter = LocalLimiter(Limits(concurrent=1, slots=1, seconds_per_minute=1.0), clock=lambda: now[0])

    async def scenario() -> None:
        async with limiter.admit("a"):  # the only slot, held by client a
            with limiter.admit_bounded("b"):  # entered at once, no slot needed
                now[0] += 1.5  # b's lane query "took" 1.5 s of its 1 s budget
            assert limiter.used("b") == pytest.approx(1.5)
            with pytest.raises(TooManyRequests, match=r"1\.5 s of query time"), limiter.admit_bounded("b"):
                pass
            with pytest.raises(TooManyRequests):  # the workers' path sees the same budget
                async with limiter.admit("b"):
                    pass
        now[0] += 61  # a minute later the budget is back
        with limiter.admit_bounded("b"):
            pass

    asyncio.run(scenario())


def test_the_lane_counts_its_json_rows_without_reading_the_answer_back(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lane_shape(EX + "SELECT ?p ?o WHERE { ex:plan ?p ?o }") == ("select", None, True)
    assert lane_shape(EX + "SELECT * WHERE { ex:plan ?p ?o } LIMIT 3") == ("select", 3, True)
    assert lane_shape(EX + "SELECT ?x ?o WHERE { ex:plan ?p ?o }") == ("select", None, True)
    # Rows that bind nothing ({}), or no variable at all: read back.
    assert lane_shape(EX + "SELECT ?nowhere WHERE { ex:plan ?p ?o }") == ("select", None, False)
    assert lane_shape(EX + "SELECT * WHERE { ex:plan ex:tasks 24 }") == ("select", None, False)
    assert lane_shape(EX + "ASK { ex:plan ?p ?o }") == ("ask", None, False)
    read_back: list[bytes] = []
    loads = json.loads

    def counted(body: Any, **kwargs: Any) -> Any:
        read_back.append(body)
        return loads(body, **kwargs)

    monkeypatch.setattr(oxigraph.json, "loads", counted)
    outcome = store.query_bounded(EX + "SELECT ?p ?o WHERE { ex:plan ?p ?o }", formats=CHOICES[0])
    assert outcome is not None and outcome.rows == 7 and read_back == []
    outcome = store.query_bounded(EX + "SELECT ?nowhere WHERE { ex:plan ?p ?o }", formats=CHOICES[0])
    assert outcome is not None and outcome.rows == 7 and len(read_back) == 1
    assert (
        outcome.body
        == b'{"head":{"vars":["nowhere"]},"results":{"bindings":[' + b",".join([b"{}"] * 7) + b"]}}"
    )


# The lane's lexer before white space and comments were read with the token after them (one match
# per token): the reference the lexer must agree with on every text.
_REFERENCE_TOKEN = re.compile(
    r"(?P<space>(?:[ \t\r\n]|\#[^\r\n]*)+)|(?P<iri>"
    + bounded._TOKEN.pattern.split("(?P<iri>")[1].rsplit(")", 1)[0],
    re.VERBOSE,
)


def _reference_lex(query: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(query):
        found = _REFERENCE_TOKEN.match(query, at)
        if found is None:
            return None
        if found.lastgroup != "space":
            tokens.append((found.lastgroup or "", found.group()))
        at = found.end()
    return tokens


# Fragments that meet at every boundary the lexer has: comments with tokens in them, line ends, names
# next to names, an IRI cut short, prefixes ending in a dot.
_FRAGMENTS = [
    " ", "\n", "\r\n", "\t", "# select ?x { <a> ?p ?o }", "#", "# c\n", "SELECT", "select", "ASK", "WHERE",
    "LIMIT", "a", "?p", "$o", "?", "<http://x/a>", "<a", ">", "ex:", "ex:plan", ":", "pk.:", "a.b:c",
    "ex:a.", "%41", '"x"', "'y'", '"a\\"b"', "@en-GB", "^^", "12", "1.5e3", ".", "{", "}", "*", "BASE",
    "PREFIX", "\\u0041", "服", "-", "+1",
]  # fmt: skip


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25))
@settings(derandomize=True, deadline=None, max_examples=400, suppress_health_check=list(HealthCheck))
def test_the_lexer_reads_every_text_as_its_reference_does(parts: list[str]) -> None:
    text = "".join(parts)
    assert bounded._lex(text) == _reference_lex(text)


def test_the_lexer_reads_comments_and_white_space_with_the_token_after_them() -> None:
    query = "SELECT ?p ?o # a comment { ?s }\nWHERE { <s> ?p ?o }  \n# end"
    assert bounded._lex(query) == _reference_lex(query)
    assert bounded._TOKEN.match(query, 6) is not None and bounded._TOKEN.match(query, 6).group() == " ?p"
