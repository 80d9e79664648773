"""The embedded store plans a bound SELECT with its values in the text (server.stores.oxigraph._planned_text).

pyoxigraph's ``substitutions`` bind a variable after the query is planned, so a pattern that a canned
query's parameter constrains was planned as a scan of the whole corpus (source-passage: 14 s at 1,000
plans). The store now writes the values into the text as a remote engine gets them (``with_bindings``)
and leaves nothing to ``substitutions``; a value the text cannot hold safely is never written into it.
These tests look at what the engine is handed, and at the answers: the same rows as pre-binding gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pyoxigraph as ox
import pytest

from server.protocol.canned import CannedQuery, load_queries
from server.protocol.results import BlankNode, Iri, Literal, Solutions, Term
from server.stores.interface import ResultKind
from server.stores.oxigraph import _answer, _ox_term, _planned_text, _Request, _term
from server.stores.querytext import sparql_term, with_bindings
from tests.conftest import BuiltPlan, TestClient

BASE = "http://127.0.0.1:8000/"
JSON = {"Accept": "application/sparql-results+json"}


class Recorder:
    """An engine that answers as the store it wraps and keeps what each query was handed."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.handed: list[tuple[str, Any]] = []

    def query(self, sparql: str, **options: Any) -> Any:
        self.handed.append((sparql, options.get("substitutions")))
        return self.store.query(sparql, **options)


@pytest.fixture(scope="module")
def engine(built_plan: BuiltPlan) -> Iterator[ox.Store]:
    """The seed build's store, opened read-only beside the server's workers."""
    yield ox.Store.read_only(str(built_plan.settings.store_dir))


def request(sparql: str, bindings: Mapping[str, Term]) -> _Request:
    return _Request(sparql, (), (), None, None, False, None, BASE, tuple(bindings.items()))


def rows(outcome: tuple[Any, ...]) -> list[str]:
    assert outcome[0] == "ok", outcome
    value = outcome[1].value
    assert outcome[1].kind is ResultKind.SOLUTIONS and isinstance(value, Solutions)
    return sorted(map(repr, value.rows))


def pre_bound(engine: ox.Store, sparql: str, bindings: Mapping[str, Term]) -> list[str]:
    """The rows pyoxigraph gives with the values bound after planning (``substitutions``)."""
    result = engine.query(
        sparql, base_iri=BASE, substitutions={ox.Variable(k): _ox_term(v) for k, v in bindings.items()}
    )
    assert isinstance(result, ox.QuerySolutions)
    return sorted(repr(tuple(None if t is None else _term(t) for t in row)) for row in result)


CANNED = [
    pytest.param(q, given, id=f"{q.name}-{which}")
    for q in load_queries()
    for which in ("default", "example")
    if (given := {p.name: [value] for p in q.params if (value := getattr(p, which)) is not None})
]


@pytest.mark.parametrize(("canned", "params"), CANNED)
def test_a_canned_query_is_planned_with_its_values_in_the_text(
    engine: ox.Store, canned: CannedQuery, params: dict[str, list[str]]
) -> None:
    """The engine is handed the text with each value written in (what a remote engine gets) and no
    substitutions; the rows are those of the values bound after planning."""
    bindings = canned.bind(params, BASE)
    assert bindings
    recorder = Recorder(engine)
    got = rows(_answer(recorder, request(canned.sparql, bindings), {}))  # type: ignore[arg-type]
    [(text, substitutions)] = recorder.handed
    assert substitutions is None
    assert text == with_bindings(canned.sparql, bindings) != canned.sparql
    for term in bindings.values():
        assert sparql_term(term) in text
    assert got == pre_bound(engine, canned.sparql, bindings)


HOSTILE_LITERALS = [
    '" } ; DROP ALL #',
    '山东大学" } UNION { ?s ?p ?o } #',
    "') } #",
    '\\" } INSERT DATA { <x> <y> <z> } #',
    '"""',
    "?org",
]


@pytest.mark.parametrize("hostile", HOSTILE_LITERALS)
def test_a_hostile_literal_is_written_escaped_and_matches_itself_only(engine: ox.Store, hostile: str) -> None:
    """A literal that tries to end its quotes is written escaped: the query keeps its shape, the
    engine reads the very characters given, and nothing of the graph matches them."""
    (search,) = [q for q in load_queries() if q.name == "search"]
    bindings: dict[str, Term] = {"q": Literal(hostile)}
    text, substitutions = _planned_text(search.sparql, tuple(bindings.items()))
    assert substitutions is None
    # The text is that of a harmless value but for the term itself: the value changed nothing else.
    harmless = with_bindings(search.sparql, {"q": Literal("harmless")})
    written = sparql_term(Literal(hostile))
    assert written in text
    assert text.replace(written, "TERM") == harmless.replace(sparql_term(Literal("harmless")), "TERM")
    recorder = Recorder(engine)
    answered = _answer(recorder, request(search.sparql, bindings), {})  # type: ignore[arg-type]
    assert rows(answered) == [] == pre_bound(engine, search.sparql, bindings)
    # The value comes back as given: the projected ?q is the literal, not a piece of query text.
    probe = "SELECT ?q WHERE { FILTER (STRLEN(?q) > 0) }"
    assert rows(_answer(Recorder(engine), request(probe, bindings), {})) == [repr((Literal(hostile),))]  # type: ignore[arg-type]


HOSTILE_IRIS = ["id/x> } ; DROP ALL #", "id/a b", 'id/"q"', "id/{x}", "id/a\\b"]


@pytest.mark.parametrize("iri", [BASE + i for i in HOSTILE_IRIS])
def test_an_iri_the_text_cannot_hold_is_refused_not_written(engine: ox.Store, iri: str) -> None:
    """An IRI with a character no IRIREF may hold (``>``, a space, a quote, a brace, a backslash) is
    never written into the text: the engine is handed nothing and the store refuses the query, as it
    refused such a value bound after planning (a 400 through the routes)."""
    (passage,) = [q for q in load_queries() if q.name == "source-passage"]
    recorder = Recorder(engine)
    answered = _answer(recorder, request(passage.sparql, {"node": Iri(iri)}), {})  # type: ignore[arg-type]
    assert answered[:2] == ("error", "unsupported") and "IRI" in answered[2]
    assert recorder.handed == []


def test_what_the_text_cannot_take_is_left_to_substitutions() -> None:
    """A form other than SELECT, a blank node, a variable the query does not project: the text is
    left as it is and the engine binds (or refuses) as before."""
    ask = "ASK { ?s ?p ?o }"
    text, substitutions = _planned_text(ask, (("s", Iri(BASE + "id/x")),))
    assert text is ask and substitutions == {ox.Variable("s"): ox.NamedNode(BASE + "id/x")}
    select = "SELECT ?s WHERE { ?s ?p ?o }"
    text, substitutions = _planned_text(select, (("s", BlankNode("b0")),))
    assert text is select and substitutions == {ox.Variable("s"): ox.BlankNode("b0")}
    text, substitutions = _planned_text(select, (("o", Literal("x")),))
    assert text is select and substitutions == {ox.Variable("o"): ox.Literal("x")}
    assert _planned_text(select, ()) == (select, None)


def test_hostile_values_through_the_routes(plan_client: TestClient) -> None:
    """Over HTTP: a hostile literal is bound safely (200, no rows); a hostile IRI is refused (400
    naming the parameter)."""
    for hostile in HOSTILE_LITERALS:
        for name, param in (("search", "q"), ("tasks-by-place", "place"), ("cited-by", "document")):
            response = plan_client.get(f"/queries/{name}", params={param: hostile}, headers=JSON)
            assert response.status_code == 200, response.text
            assert response.json()["results"]["bindings"] == []
    for hostile in [*HOSTILE_IRIS, BASE + "id/x>"]:
        response = plan_client.get("/queries/source-passage", params={"node": hostile})
        assert response.status_code == 400, response.text
        assert response.json()["parameter"] == "node"
