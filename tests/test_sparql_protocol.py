"""The SPARQL 1.1 Protocol at /sparql, in process: methods, datasets, formats, every error status.

One store (two query worker processes over a small TriG file) serves every app built here; apps
differ only in their settings.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD

from server.app import create_app
from server.errors import QueryNotSupported
from server.ops.metrics import Metrics
from server.protocol.results import RDF_LANG_STRING, Iri, Solutions, serialize_solutions
from server.protocol.results import Literal as ResultLiteral
from server.settings import Settings
from server.stores.oxigraph import DatasetDescription, FormatChoice, OxigraphStore, QueryOutcome, ResultKind

with warnings.catch_warnings():
    # Starlette warns once, at import, that it would rather drive httpx2; httpx works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
EX = Namespace("http://example.org/")
SRX = "{http://www.w3.org/2005/sparql-results#}"

TITLE_ZH = "济南市绿色低碳行动方案"
NOTE = 'comma, "quote"\nnew line\tand tab'
PLAN_QUERY = "PREFIX ex: <http://example.org/> SELECT ?p ?o WHERE { ex:plan ?p ?o } ORDER BY ?p ?o"
CONSTRUCT = "PREFIX ex: <http://example.org/> CONSTRUCT { ex:plan ?p ?o } WHERE { ex:plan ?p ?o }"


@pytest.fixture(scope="module")
def store() -> Iterator[OxigraphStore]:
    s = OxigraphStore(None, data_files=[SAMPLE], workers=2, prefixes={"ex": str(EX)})
    yield s
    s.close()


def client_for(store: OxigraphStore, **overrides: Any) -> TestClient:
    settings = Settings(data_files=(SAMPLE,), without_plan=True, **overrides)
    return TestClient(create_app(settings, store))


@pytest.fixture(scope="module")
def client(store: OxigraphStore) -> TestClient:
    return client_for(store)


def rdflib_graph(data: bytes | str, rdflib_format: str) -> Graph:
    """Every triple of a document, read by rdflib (an independent parser)."""
    with warnings.catch_warnings():
        # rdflib 7.6 parses JSON-LD, TriG and N-Quads through its own deprecated ConjunctiveGraph.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        ds = Dataset()
        ds.parse(data=data, format=rdflib_format)
    out = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        out.add((s, p, o))
    return out


def expected_plan_graph() -> Graph:
    g = rdflib_graph(SAMPLE.read_bytes(), "trig")
    out = Graph()
    for p, o in g.predicate_objects(EX.plan):
        out.add((EX.plan, p, o))
    return out


def assert_problem(response: Any, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body
    return body


# --- the three ways to send a query -----------------------------------------------------------


def test_get_post_form_and_post_query_give_the_same_answer(client: TestClient) -> None:
    by_get = client.get("/sparql", params={"query": PLAN_QUERY})
    by_form = client.post("/sparql", data={"query": PLAN_QUERY})
    by_body = client.post(
        "/sparql", content=PLAN_QUERY.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    for r in (by_get, by_form, by_body):
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/sparql-results+json; charset=utf-8"
        assert r.headers["x-result-rows"] == "7"
        assert "accept" in r.headers["vary"].lower()
    assert by_get.json() == by_form.json() == by_body.json()
    assert len(by_get.json()["results"]["bindings"]) == 7


def test_head_answers_headers_without_a_body(client: TestClient) -> None:
    got = client.get("/sparql", params={"query": PLAN_QUERY}, headers={"Accept": "text/csv"})
    head = client.head("/sparql", params={"query": PLAN_QUERY}, headers={"Accept": "text/csv"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"] == "text/csv; charset=utf-8"
    assert head.headers["content-length"] == got.headers["content-length"]


def test_chinese_query_text_in_url_and_body(client: TestClient) -> None:
    query = (
        'PREFIX ex: <http://example.org/> SELECT ?t WHERE { ?t ex:label ?l FILTER(CONTAINS(?l, "山东大学")) }'
    )
    by_get = client.get("/sparql", params={"query": query})
    by_body = client.post(
        "/sparql",
        content=query.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query; charset=utf-8"},
    )
    for r in (by_get, by_body):
        assert r.status_code == 200
        assert [b["t"]["value"] for b in r.json()["results"]["bindings"]] == [str(EX.task1)]


def test_default_and_named_graph_uris(client: TestClient) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    in_default = client.get("/sparql", params={"query": count})
    assert in_default.json()["results"]["bindings"][0]["n"]["value"] == "11"
    from_named = client.get("/sparql", params={"query": count, "default-graph-uri": str(EX.extra)})
    assert from_named.json()["results"]["bindings"][0]["n"]["value"] == "2"
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    listed = client.get("/sparql", params={"query": graphs})
    assert [b["g"]["value"] for b in listed.json()["results"]["bindings"]] == [str(EX.extra)]
    restricted = client.post("/sparql", data={"query": graphs, "named-graph-uri": "http://example.org/none"})
    assert restricted.json()["results"]["bindings"] == []


# --- result formats: tags and datatypes survive ----------------------------------------------


def solutions(client: TestClient, accept: str, query: str = PLAN_QUERY) -> Any:
    r = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    return r


def test_json_keeps_language_tags_and_datatypes(client: TestClient) -> None:
    rows = solutions(client, "application/sparql-results+json").json()["results"]["bindings"]
    objects = {(b["o"]["value"], b["o"].get("xml:lang"), b["o"].get("datatype")) for b in rows}
    assert (TITLE_ZH, "zh", None) in objects
    assert ("Jinan green low-carbon action plan", "en", None) in objects
    assert ("2023", None, str(XSD.gYear)) in objects
    assert ("24", None, str(XSD.integer)) in objects
    assert ("1234.5", None, str(XSD.decimal)) in objects
    assert ("七", None, str(EX.ChineseNumeral)) in objects
    assert (NOTE, None, None) in objects


def test_xml_keeps_language_tags_and_datatypes(client: TestClient) -> None:
    r = solutions(client, "application/sparql-results+xml")
    assert r.headers["content-type"] == "application/sparql-results+xml; charset=utf-8"
    root = ET.fromstring(r.content)
    literals = {
        (e.text, e.get("{http://www.w3.org/XML/1998/namespace}lang"), e.get("datatype"))
        for e in root.iter(SRX + "literal")
    }
    assert (TITLE_ZH, "zh", None) in literals
    assert ("2023", None, str(XSD.gYear)) in literals
    assert ("七", None, str(EX.ChineseNumeral)) in literals
    assert (NOTE, None, None) in literals
    assert [v.get("name") for v in root.iter(SRX + "variable")] == ["p", "o"]


def test_tsv_keeps_language_tags_and_datatypes_in_turtle_syntax(client: TestClient) -> None:
    r = solutions(client, "text/tab-separated-values")
    assert r.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    lines = r.content.decode("utf-8").split("\n")
    assert lines[0] == "?p\t?o"
    cells = {line.split("\t")[1] for line in lines[1:] if line}
    assert f'"{TITLE_ZH}"@zh' in cells
    assert f'"2023"^^<{XSD.gYear}>' in cells
    assert "24" in cells
    assert f'"七"^^<{EX.ChineseNumeral}>' in cells
    assert '"comma, \\"quote\\"\\nnew line\\tand tab"' in cells  # one line, one cell


def test_csv_has_a_header_utf8_and_quotes_what_needs_quoting(client: TestClient) -> None:
    r = solutions(client, "text/csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert not r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert rows[0] == ["p", "o"]
    values = {row[1] for row in rows[1:]}
    # CSV is the W3C's lossy format: lexical forms only (tags and datatypes are in JSON/XML/TSV).
    assert {TITLE_ZH, "2023", "24", "1234.5", "七", NOTE} <= values
    assert b"\r\n" in r.content


def test_csv_for_spreadsheets_starts_with_a_byte_order_mark(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": PLAN_QUERY, "format": "csv-excel"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbfp,o\r\n")
    assert TITLE_ZH in r.content.decode("utf-8-sig")


def test_ask_in_every_results_format(client: TestClient) -> None:
    ask = "PREFIX ex: <http://example.org/> ASK { ex:plan ex:tasks 24 }"
    assert solutions(client, "application/sparql-results+json", ask).json() == {"head": {}, "boolean": True}
    root = ET.fromstring(solutions(client, "application/sparql-results+xml", ask).content)
    assert root.find(SRX + "boolean") is not None and root.find(SRX + "boolean").text == "true"  # type: ignore[union-attr]
    assert solutions(client, "text/csv", ask).text == "_askResult\r\ntrue\r\n"
    assert solutions(client, "text/tab-separated-values", ask).text == "?_askResult\ntrue\n"


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
    ],
)
def test_construct_in_every_graph_format_round_trips(
    client: TestClient, accept: str, rdflib_format: str
) -> None:
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == accept
    got = rdflib_graph(r.content, rdflib_format)
    assert isomorphic(got, expected_plan_graph())
    assert (EX.plan, EX.title, Literal(TITLE_ZH, lang="zh")) in got
    assert (EX.plan, EX.custom, Literal("七", datatype=EX.ChineseNumeral)) in got


def test_describe_defaults_to_turtle_with_prefixes(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "DESCRIBE <http://example.org/task1>"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    assert "@prefix ex: <http://example.org/>" in r.text
    assert "推进山东大学节能改造" in r.text


# --- transport: gzip, CORS -------------------------------------------------------------------


def test_gzip_when_asked(client: TestClient) -> None:
    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 100"
    headers = {"Accept-Encoding": "gzip"}
    with client.stream("GET", "/sparql", params={"query": query}, headers=headers) as r:
        assert r.status_code == 200
        assert r.headers["content-encoding"] == "gzip"
        assert int(r.headers["x-result-rows"]) == 100
        raw = b"".join(r.iter_raw())
    assert len(json.loads(gzip.decompress(raw))["results"]["bindings"]) == 100
    plain = client.get("/sparql", params={"query": query}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > len(raw)


@pytest.mark.parametrize("accept_encoding", ["gzip;q=0", "gzip;q=0, identity", "br, gzip;q=0.0, *;q=0"])
def test_no_gzip_when_refused_by_q_zero(client: TestClient, accept_encoding: str) -> None:
    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 100"
    r = client.get("/sparql", params={"query": query}, headers={"Accept-Encoding": accept_encoding})
    assert r.status_code == 200
    assert "content-encoding" not in r.headers
    assert len(json.loads(r.content)["results"]["bindings"]) == 100


def test_cors_without_credentials(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://example.net"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    pre = client.options(
        "/sparql",
        headers={
            "Origin": "https://example.net",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in pre.headers


# --- every error, with its status and reason -------------------------------------------------


def test_malformed_query_is_400_with_line_and_column(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "SELECT *\nWHERE {\n  ?s ?p \n}"})
    body = assert_problem(r, 400, "malformed query at line 4, column ")
    assert body["line"] == 4 and isinstance(body["column"], int)
    assert f"line 4, column {body['column']}:" in body["detail"]


def test_unacceptable_accept_is_406(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": PLAN_QUERY}, headers={"Accept": "image/png"})
    body = assert_problem(r, 406, "image/png")
    assert "text/csv" in body["available"]
    # A graph asked for in a results-only format: known once the query is read.
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert_problem(r, 406, "graph", "text/turtle")


def test_unknown_format_parameter_is_406(client: TestClient) -> None:
    assert_problem(client.get("/sparql", params={"query": PLAN_QUERY, "format": "yaml"}), 406, "yaml")


def test_wrong_media_type_is_415(client: TestClient) -> None:
    r = client.post("/sparql", content=PLAN_QUERY.encode(), headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "application/sparql-query", "text/plain")
    r = client.post("/sparql", content=PLAN_QUERY.encode())
    assert_problem(r, 415, "no media type")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405(client: TestClient, method: str) -> None:
    r = client.request(method, "/sparql")
    assert_problem(r, 405, method, "GET")
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD", "POST", "OPTIONS"}


def test_plain_options_lists_the_methods(client: TestClient) -> None:
    r = client.options("/sparql")
    assert r.status_code == 204
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD", "POST", "OPTIONS"}
    assert r.content == b""


def test_query_in_url_and_body_is_400(client: TestClient) -> None:
    r = client.post(
        "/sparql",
        params={"query": PLAN_QUERY},
        content=PLAN_QUERY.encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert_problem(r, 400, "both in the URL and in the request body")
    r = client.post("/sparql", params={"query": PLAN_QUERY}, data={"query": PLAN_QUERY})
    assert_problem(r, 400, "both in the URL and in the request body")


@pytest.mark.parametrize(
    ("parameter", "value", "problem"),
    [
        ("default-graph-uri", "extra", "is not an absolute IRI: it has no scheme (such as http:)"),
        ("named-graph-uri", "", "is empty"),
        (
            "default-graph-uri",
            "http://example.org/a b",
            "is not an IRI: it holds ' ', which an IRI cannot hold",
        ),
        (
            "named-graph-uri",
            "http://example.org/<x>",
            "is not an IRI: it holds '<', which an IRI cannot hold",
        ),
        (
            "default-graph-uri",
            "http://example.org/%zz",
            "is not an IRI: a '%' is not followed by two hexadecimal digits",
        ),
        ("named-graph-uri", "1a:b", "is not an absolute IRI: it has no scheme (such as http:)"),
        # a C1 control character (RFC 3987 keeps them out)
        (
            "default-graph-uri",
            "http://example.org/\x85",
            "is not an IRI: it holds '\\x85', which an IRI cannot hold",
        ),
    ],
)
def test_a_graph_parameter_that_is_no_iri_is_named(
    client: TestClient, parameter: str, value: str, problem: str
) -> None:
    for response in (
        client.get("/sparql", params={"query": "ASK {}", parameter: value}),
        client.post("/sparql", data={"query": "ASK {}", parameter: value}),
        # the first of several that is wrong is the one named
        client.get("/sparql", params=[("query", "ASK {}"), (parameter, "urn:x:good"), (parameter, value)]),
    ):
        body = assert_problem(response, 400)
        assert body == {
            "type": "about:blank",
            "title": "Invalid graph IRI",
            "status": 400,
            "detail": f"parameter {parameter!r}: {value!r} {problem}",
            "parameter": parameter,
            "value": value,
        }


def test_protocol_mistakes_are_400(client: TestClient) -> None:
    assert_problem(client.get("/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")]), 400, "2 times")
    assert_problem(client.get("/sparql", params={"query": "  "}), 400, "empty")
    assert_problem(client.post("/sparql", data={"default-graph-uri": "http://e/"}), 400, "'query' field")
    assert_problem(client.get("/sparql", params={"query": "ASK {}", "timeout": "soon"}), 400, "timeout")
    assert_problem(client.get("/sparql", params={"query": "ASK {}", "timeout": "-1"}), 400, "positive")


@pytest.mark.parametrize(
    "request_args",
    [
        {"method": "GET", "params": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": {"update": "CLEAR ALL"}},
        {"method": "POST", "content": b"CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}},
        {"method": "POST", "data": {"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}},
        {"method": "GET", "params": {"query": "LOAD <http://127.0.0.1:9/data.ttl>"}},
    ],
)
def test_updates_are_403_with_a_reason(client: TestClient, request_args: dict[str, Any]) -> None:
    args = dict(request_args)
    assert_problem(client.request(args.pop("method"), "/sparql", **args), 403, "read-only")


def test_service_is_400_with_a_reason(client: TestClient) -> None:
    r = client.get(
        "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}
    )
    assert_problem(r, 400, "SERVICE")


def test_body_over_the_limit_is_413(store: OxigraphStore) -> None:
    small = client_for(store, max_body_bytes=100)
    padded = PLAN_QUERY + " " * 200
    r = small.post("/sparql", content=padded.encode(), headers={"Content-Type": "application/sparql-query"})
    assert_problem(r, 413, "limit is 100")


def test_query_over_the_length_limit_is_400(store: OxigraphStore) -> None:
    short = client_for(store, max_query_length=50)
    assert_problem(short.get("/sparql", params={"query": PLAN_QUERY}), 400, "limit is 50")


def test_too_many_rows_is_refused_never_truncated(store: OxigraphStore) -> None:
    capped = client_for(store, max_result_rows=5)
    body = assert_problem(capped.get("/sparql", params={"query": PLAN_QUERY}), 400, "more than 5 rows")
    assert body["limit"] == 5
    assert_problem(capped.get("/sparql", params={"query": CONSTRUCT}), 400, "more than 5 triples")
    ok = capped.get("/sparql", params={"query": PLAN_QUERY + " LIMIT 5"})
    assert ok.status_code == 200 and ok.headers["x-result-rows"] == "5"


def test_unknown_path_is_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404, "/nowhere")


# --- service description, health, metrics, log -----------------------------------------------


def test_get_without_query_is_the_service_description(client: TestClient) -> None:
    r = client.get("/sparql")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    g = rdflib_graph(r.content, "turtle")
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoint = URIRef("http://testserver/sparql")  # the URL the request reached (TestClient's host)
    assert (endpoint, sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (endpoint, sd.resultFormat, URIRef("http://www.w3.org/ns/formats/SPARQL_Results_CSV")) in g
    assert [n for n in g.objects(None, sd.namedGraph) if (n, sd.name, EX.extra) in g]
    assert (endpoint, sd.feature, sd.BasicFederatedQuery) not in g
    as_jsonld = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["content-type"].startswith("application/ld+json")
    assert isomorphic(rdflib_graph(as_jsonld.content, "json-ld"), g)


def test_the_service_description_names_the_endpoint_the_request_reached(store: OxigraphStore) -> None:
    settings = Settings(data_files=(SAMPLE,), without_plan=True)
    with TestClient(create_app(settings, store), base_url="http://localhost:8123") as c:
        r = c.get("/sparql", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    g = rdflib_graph(r.content, "nt")
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoints = set(g.subjects(sd.endpoint, None))
    assert endpoints == {URIRef("http://localhost:8123/sparql")}
    assert set(g.objects(None, sd.endpoint)) == endpoints
    assert "127.0.0.1:8000" not in r.text  # not the configured default


def test_every_named_graph_of_the_service_description_has_exactly_one_name(client: TestClient) -> None:
    g = rdflib_graph(client.get("/sparql", headers={"Accept": "text/turtle"}).content, "turtle")
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    nodes = list(g.objects(None, sd.namedGraph))
    assert nodes
    names = []
    for node in nodes:
        assert (node, RDF.type, sd.NamedGraph) in g
        found = list(g.objects(node, sd.name))
        assert len(found) == 1, (node, found)
        names.append(found[0])
    assert sorted(names) == [EX.extra]


def test_relative_iris_in_a_query_resolve_against_the_endpoint_url(store: OxigraphStore) -> None:
    """SPARQL 1.1 Query 4.1.1.3: without BASE, the base is the document's (the endpoint's) URL. Without
    one, `<s>` was a syntax error (400), which fails the W3C protocol test query_content_type_construct."""
    settings = Settings(data_files=(SAMPLE,), without_plan=True)
    with TestClient(create_app(settings, store), base_url="http://localhost:8123") as c:
        r = c.post(
            "/sparql",
            content="CONSTRUCT { <s> <p> 1 } WHERE {}",
            headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"},
        )
        assert r.status_code == 200, r.text
        assert r.text.strip() == (
            "<http://localhost:8123/s> <http://localhost:8123/p> "
            '"1"^^<http://www.w3.org/2001/XMLSchema#integer> .'
        )
        # A BASE in the query wins, and the canned queries keep the site base.
        based = c.get("/sparql", params={"query": "BASE <http://example.org/> SELECT (<x> AS ?x) {}"})
        assert based.json()["results"]["bindings"] == [
            {"x": {"type": "uri", "value": "http://example.org/x"}}
        ]


def test_service_silent_to_a_refused_host_is_the_empty_solution(client: TestClient) -> None:
    """SPARQL 1.1 Federated Query 4: a SILENT service that fails gives one solution with no bindings;
    a host that is not allowed fails it without any connection (the canary test is in
    test_server_process.py). Without SILENT, the query is still refused."""
    query = (
        "PREFIX ex: <http://example.org/> SELECT ?o ?x WHERE { ex:plan ex:title ?o "
        "SERVICE SILENT <http://127.0.0.1:9/sparql> { ?x ?y ?z } }"
    )
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 200, r.text
    rows = r.json()["results"]["bindings"]
    loud = client.get("/sparql", params={"query": query.replace("SILENT ", "")})
    assert loud.status_code == 400 and "SERVICE" in loud.json()["detail"]
    alone = client.get(
        "/sparql", params={"query": "SELECT * WHERE { SERVICE SILENT <http://a.example/> { ?s ?p ?o } }"}
    )
    assert alone.json()["results"]["bindings"] == [{}]
    assert rows and all(set(row) == {"o"} for row in rows)


def test_browsers_get_the_query_page_once_one_is_installed(store: OxigraphStore) -> None:
    settings = Settings(data_files=(SAMPLE,), without_plan=True)
    app: FastAPI = create_app(settings, store)
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    app.state.query_page = None  # whatever the web front end installed: start without a page
    c = TestClient(app)
    assert c.get("/sparql", headers=browser).headers["content-type"].startswith("text/turtle")

    async def page(request: Request) -> Response:
        return Response("<!doctype html><title>query</title>", media_type="text/html")

    app.state.query_page = page
    r = c.get("/sparql", headers=browser)
    assert r.headers["content-type"].startswith("text/html")
    assert (
        c.get("/sparql", headers={"Accept": "text/turtle"}).headers["content-type"].startswith("text/turtle")
    )


def test_healthz(client: TestClient, store: OxigraphStore) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "build_id": store.build_id, "triples": 13}


def test_metrics_count_requests_by_route_and_status(store: OxigraphStore) -> None:
    c = client_for(store)
    c.get("/sparql", params={"query": "ASK {}"})
    c.get("/sparql", params={"query": "SELECT"})
    text = c.get("/metrics").text
    assert 'plankg_http_requests_total{route="/sparql",method="GET",status="200"} 1' in text
    assert 'plankg_http_requests_total{route="/sparql",method="GET",status="400"} 1' in text
    assert 'plankg_http_request_duration_seconds_count{route="/sparql"} 2' in text
    assert "plankg_query_timeouts_total 0" in text
    assert "plankg_store_triples 13" in text


def test_metrics_gauges_keep_every_digit() -> None:
    """A triple count or byte total past a million is exported exactly, not as ``1.23457e+06``."""
    metrics = Metrics()
    metrics.gauge("plankg_store_triples", "Quads.", lambda: 1_234_567)
    metrics.gauge("plankg_answer_cache_bytes", "Bytes.", lambda: 67_108_865.0)
    metrics.gauge("plankg_ratio", "A fraction.", lambda: 0.1)
    lines = metrics.render().splitlines()
    assert "plankg_store_triples 1234567" in lines
    assert "plankg_answer_cache_bytes 67108865" in lines
    assert "plankg_ratio 0.1" in lines


def test_metrics_label_every_route_even_unrouted_answers(store: OxigraphStore) -> None:
    c = client_for(store)
    preflight = {"Origin": "http://example.org", "Access-Control-Request-Method": "POST"}
    assert c.options("/sparql", headers=preflight).status_code == 200  # answered by CORS, before routing
    assert c.get("/static/plankg.css").status_code == 200
    assert c.get("/static/query.js").status_code == 200
    assert c.get("/", headers={"Accept": "text/html"}).status_code == 200
    assert c.put("/queries").status_code == 405
    assert c.get("/nothing-here").status_code == 404
    text = c.get("/metrics").text
    assert 'plankg_http_requests_total{route="/sparql",method="OPTIONS",status="200"} 1' in text
    assert 'plankg_http_requests_total{route="static",method="GET",status="200"} 2' in text
    assert 'plankg_http_requests_total{route="/",method="GET",status="200"} 1' in text
    assert 'plankg_http_requests_total{route="/queries",method="PUT",status="405"} 1' in text
    assert 'plankg_http_requests_total{route="(no route)",method="GET",status="404"} 1' in text
    assert "/static/" not in text


def test_metrics_label_made_up_methods_as_one(store: OxigraphStore) -> None:
    """A client inventing methods adds no series: any method HTTP does not define is ``OTHER``."""
    c = client_for(store)
    for method in ("FOO1", "FOO2", "FOO3"):
        assert c.request(method, "/sparql").status_code == 405
    text = c.get("/metrics").text
    assert 'plankg_http_requests_total{route="/sparql",method="OTHER",status="405"} 3' in text
    assert "FOO" not in text


def test_each_request_is_logged_with_duration_and_outcome(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="plankg.access"):
        client.get("/sparql", params={"query": PLAN_QUERY}, headers={"Accept": "text/csv"})
        client.get("/sparql", params={"query": "SELECT"})
    ok, bad = (r.getMessage() for r in caplog.records if r.name == "plankg.access")
    assert ok.startswith("GET /sparql 200 ") and " ms " in ok and "7 rows as csv" in ok
    assert bad.startswith("GET /sparql 400 ") and "Malformed query" in bad


def test_typed_bindings_are_values_never_query_text(store: OxigraphStore) -> None:
    """What the canned queries build on: parameters bound as RDF terms, not spliced into the text."""
    query = "PREFIX ex: <http://example.org/> SELECT ?t ?l WHERE { ?t ex:label ?l }"
    zh = ResultLiteral("推进山东大学节能改造", RDF_LANG_STRING, "zh")
    found = store.query(query, bindings={"l": zh}).value
    assert isinstance(found, Solutions)
    assert found.rows == ((Iri(str(EX.task1)), zh),)
    hostile = ResultLiteral('x" } UNION { ?t ?p ?l } #')
    none = store.query(query, bindings={"l": hostile}).value
    assert isinstance(none, Solutions) and none.rows == ()


def test_a_query_the_store_cannot_evaluate_is_400_and_the_worker_survives(
    client: TestClient, store: OxigraphStore
) -> None:
    before = store.worker_pids()
    unknown = "SELECT (<http://example.org/fn>(?o) AS ?x) WHERE { ?s ?p ?o }"
    assert_problem(client.get("/sparql", params={"query": unknown}), 400, "http://example.org/fn")
    with pytest.raises(QueryNotSupported, match="projection"):
        store.query("SELECT ?t WHERE { ?t ?p ?l }", bindings={"l": ResultLiteral("x")})
    assert store.worker_pids() == before
    assert store.query("ASK { ?s ?p ?o }").value is True


class CountingStore:
    """Any implementation of server.stores.oxigraph.Store will do: this one counts the queries it answers."""

    def __init__(self) -> None:
        self.build_id = "build-1"
        self.triple_count = 1
        self.queries = 0

    def query(self, sparql: str, **kwargs: Any) -> QueryOutcome:
        self.queries += 1
        choice: FormatChoice = kwargs["formats"]
        assert choice.results is not None
        value = Solutions(("n",), ((ResultLiteral(str(self.queries), str(XSD.integer)),),))
        return QueryOutcome(
            ResultKind.SOLUTIONS, 1, choice.results, serialize_solutions(choice.results, value)
        )

    def describe_dataset(self) -> DatasetDescription:
        return DatasetDescription(self.build_id, 1, 1, (), ())

    def close(self) -> None:
        pass


def test_answers_are_cached_until_the_build_changes() -> None:
    counting = CountingStore()
    c = TestClient(create_app(Settings(), counting))
    query = {"query": "SELECT ?n WHERE { ?s ?p ?n }"}
    first, second = c.get("/sparql", params=query), c.get("/sparql", params=query)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.content == second.content and counting.queries == 1
    as_csv = c.get("/sparql", params=query, headers={"Accept": "text/csv"})
    assert as_csv.headers["x-cache"] == "miss" and as_csv.text == "n\r\n2\r\n"  # the format is in the key
    counting.build_id = "build-2"  # a rebuild
    rebuilt = c.get("/sparql", params=query)
    assert rebuilt.headers["x-cache"] == "miss" and counting.queries == 3
    assert "plankg_answer_cache_hits_total 1" in c.get("/metrics").text


def test_the_cache_can_be_turned_off() -> None:
    counting = CountingStore()
    c = TestClient(create_app(Settings(answer_cache_bytes=0), counting))
    for _ in range(3):
        assert c.get("/sparql", params={"query": "ASK {}"}).headers["x-cache"] == "miss"
    assert counting.queries == 3


def test_openapi_documents_each_method_once(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()  # a duplicate operation id would warn, and fail here
    operations = spec["paths"]["/sparql"]
    assert {m: op["operationId"] for m, op in operations.items()} == {
        "get": "sparql_get",
        "head": "sparql_head",
        "post": "sparql_post",
    }
    assert "application/sparql-query" in operations["post"]["requestBody"]["content"]
    assert "timeout" in {p["name"] for p in operations["get"]["parameters"]}
