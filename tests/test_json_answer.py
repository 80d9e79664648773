"""The SPARQL JSON the store writes straight from the engine's solutions (oxigraph._json_answer) is,
byte for byte, what the backend-neutral serializer writes (results.serialize_solutions) for the same
solutions: awkward strings, language tags, datatypes, blank nodes, quoted triples, unbound variables."""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from server.protocol import formats as fmts
from server.protocol.results import Solutions, serialize_solutions
from server.stores.oxigraph import _engine_json_answer, _json_answer, _json_rows, _term

EX = "http://example.org/"
VALUES = [
    ox.NamedNode(EX + "a?b=c&d#e"),
    ox.Literal('quote " backslash \\ slash / tab \t newline \n nul \x00 del \x7f'),
    ox.Literal("济南市绿色低碳 \u2028 \U0001f600"),
    ox.Literal("light", language="en-GB"),
    ox.Literal("12.50", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")),
    ox.Literal("七", datatype=ox.NamedNode(EX + "Chinese%22Numeral\u00e9")),
    ox.BlankNode("b0"),
]


def test_json_written_directly_equals_the_neutral_serializer() -> None:
    store = ox.Store()
    subject = ox.NamedNode(EX + "s")
    for i, value in enumerate(VALUES):
        store.add(ox.Quad(subject, ox.NamedNode(f"{EX}p{i}"), value))
    inner = ox.Triple(subject, ox.NamedNode(EX + "p0"), VALUES[1])
    store.add(ox.Quad(ox.NamedNode(EX + "t"), ox.NamedNode(EX + "says"), inner))
    query = (
        "SELECT ?p ?o ?none WHERE { { ?s ?p ?o } UNION { ?s ?p ?o OPTIONAL { ?o <urn:x> ?none } } }"
        " ORDER BY STR(?p) STR(?o)"
    )
    result = store.query(query)
    variables = tuple(v.value for v in result.variables)
    reply = _json_answer(result, variables, None)
    assert reply[0] == "ok"
    rows = tuple(tuple(None if t is None else _term(t) for t in s) for s in store.query(query))
    expected = serialize_solutions(fmts.SPARQL_JSON, Solutions(variables, rows))
    assert reply[1].body == expected
    assert reply[1].rows == len(rows) == 2 * (len(VALUES) + 1)
    bindings = json.loads(expected)["results"]["bindings"]
    assert {"type": "literal", "value": "light", "xml:lang": "en-gb"} in [b["o"] for b in bindings]
    assert any(b["o"]["type"] == "triple" for b in bindings)


def test_the_row_limit_still_stops_the_answer() -> None:
    store = ox.Store()
    for i in range(5):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i))))
    result = store.query("SELECT ?s WHERE { ?s ?p ?o }")
    assert _json_answer(result, ("s",), 4) == ("error", "too-many-rows", "rows", 4)


def test_the_engine_s_own_json_is_the_same_bytes_and_rows() -> None:
    store = ox.Store()
    subject = ox.NamedNode(EX + "s")
    for i, value in enumerate(VALUES):
        store.add(ox.Quad(subject, ox.NamedNode(f"{EX}p{i}"), value))
    store.add(
        ox.Quad(ox.NamedNode(EX + "t"), ox.NamedNode(EX + "says"), ox.Triple(subject, subject, VALUES[1]))
    )
    query = "SELECT ?s ?p ?o ?none WHERE { ?s ?p ?o OPTIONAL { ?o <urn:x> ?none } } ORDER BY STR(?p) STR(?o)"
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    ours = _json_answer(result, tuple(v.value for v in result.variables), None)
    engine = store.query(query)
    assert isinstance(engine, ox.QuerySolutions)
    reply = _engine_json_answer(engine, None)
    assert reply[0] == "ok" and ours[0] == "ok"
    assert reply[1].body == ours[1].body
    assert reply[1].rows == ours[1].rows == len(VALUES) + 1
    again = store.query(query)
    assert isinstance(again, ox.QuerySolutions)
    assert _engine_json_answer(again, len(VALUES)) == ("error", "too-many-rows", "rows", len(VALUES))


# Strings that look like the engine's JSON between two rows, inside a value (written raw, except "
# and \ escaped): none of them may be counted as a row.
LOOK_ALIKES = [
    "},{",
    '},{"',
    '},{"p',
    '}},{"p":{"type":"uri","value":"x"}},{"o',
    "ends in },{",
    '\\},{\\"p',
    "[]}}",
    "",
]


def test_the_rows_of_the_engine_s_json_are_counted_without_reading_it_back() -> None:
    store = ox.Store()
    subject = ox.NamedNode(EX + "s")
    values: list[Any] = [*VALUES, *(ox.Literal(text) for text in LOOK_ALIKES)]
    values += [ox.Literal(text, language="en") for text in LOOK_ALIKES]
    values += [ox.NamedNode(EX + "%7D,%7B"), ox.NamedNode(EX + "a?q=%7D,%7B%22")]
    for i, value in enumerate(values):
        store.add(ox.Quad(subject, ox.NamedNode(f"{EX}p{i}"), value))
    store.add(ox.Quad(ox.NamedNode(EX + "t"), subject, ox.Triple(subject, subject, ox.Literal('},{"o'))))
    queries = [
        f"SELECT ?p ?o WHERE {{ <{EX}s> ?p ?o }}",
        f"SELECT ?o WHERE {{ <{EX}s> ?p ?o }}",
        f"SELECT ?o ?none WHERE {{ <{EX}s> ?p ?o }}",
        f"SELECT ?p ?o WHERE {{ <{EX}t> ?p ?o }}",
        f"SELECT ?o WHERE {{ <{EX}s> <{EX}p0> ?o }}",  # one row
        f"SELECT ?o WHERE {{ <{EX}nothing> ?p ?o }}",  # none
    ]
    for query in queries:
        for limit in (None, 3):
            text = query if limit is None else f"{query} LIMIT {limit}"
            result = store.query(text)
            assert isinstance(result, ox.QuerySolutions)
            body = result.serialize(format=ox.QueryResultsFormat.JSON)
            assert body is not None
            assert _json_rows(body) == len(json.loads(body)["results"]["bindings"]), text
            again = store.query(text)
            assert isinstance(again, ox.QuerySolutions)
            reply = _engine_json_answer(again, None, rows_bound=True)
            assert reply[0] == "ok" and reply[1].body == body
    assert _json_rows(store.query(queries[0]).serialize(format=ox.QueryResultsFormat.JSON)) == len(values)
