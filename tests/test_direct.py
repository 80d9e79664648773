"""/sparql queries answered without FastAPI's router (server.protocol.direct), in process.

The direct layer must change nothing but the cost: every protocol request gets the same status,
headers (in order) and body as through the router, errors included, with the same log line and metric.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI

from server.app import create_app
from server.protocol import sparql
from server.protocol.direct import SparqlDirect
from server.settings import Settings
from server.stores.oxigraph import OxigraphStore

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
EX = "http://example.org/"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{EX}plan> ?p ?o }}"  # the bounded lane
SCAN = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"  # a worker's; over 1000 bytes
FORM = "application/x-www-form-urlencoded"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def store() -> Iterator[OxigraphStore]:
    s = OxigraphStore(None, data_files=[SAMPLE], workers=2, prefixes={"ex": EX})
    yield s
    s.close()


def _app(store: OxigraphStore, *, direct: bool) -> FastAPI:
    app = create_app(Settings(data_files=(SAMPLE,), without_plan=True), store)
    if not direct:  # the reference: every request through the router, as before the direct layer
        app.user_middleware = [m for m in app.user_middleware if cast(object, m.cls) is not SparqlDirect]
    return app


# (method, params, headers, body): queries in the lane and in a worker, every way the protocol takes
# them, with gzip, CORS and HEAD, and the errors read_request and the checks raise.
REQUESTS: list[tuple[str, dict[str, str], dict[str, str], str | None]] = [
    ("GET", {"query": LOOKUP}, {"accept": JSON}, None),
    ("GET", {"query": LOOKUP}, {"accept": "text/csv", "origin": "https://a.example"}, None),
    ("GET", {"query": SCAN}, {"accept": JSON, "accept-encoding": "gzip"}, None),
    ("GET", {"query": SCAN}, {"accept": JSON, "accept-encoding": "gzip;q=0, br"}, None),
    ("GET", {"query": SCAN, "format": "xml"}, {"origin": "https://a.example"}, None),
    ("HEAD", {"query": SCAN}, {"accept": JSON, "accept-encoding": "gzip"}, None),
    ("HEAD", {"query": LOOKUP}, {}, None),
    ("POST", {}, {"content-type": FORM, "accept": JSON}, "query=" + LOOKUP.replace(" ", "+")),
    ("POST", {"timeout": "5"}, {"content-type": "application/sparql-query"}, SCAN),
    ("GET", {"query": f"CONSTRUCT {{ <{EX}plan> ?p ?o }} WHERE {{ <{EX}plan> ?p ?o }}"}, {}, None),
    ("GET", {"query": "SELEC nothing"}, {"accept": JSON}, None),  # 400, with line and column
    ("GET", {"query": LOOKUP}, {"accept": "image/png"}, None),  # 406
    ("GET", {"query": LOOKUP, "timeout": "soon"}, {}, None),  # 400
    ("GET", {"query": LOOKUP, "default-graph-uri": "no scheme"}, {}, None),  # 400
    ("GET", {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}, {}, None),  # 400
    ("GET", {"update": "DROP ALL"}, {}, None),  # 403
    ("POST", {}, {"content-type": "application/sparql-update"}, "DROP ALL"),  # 403
    ("POST", {}, {"content-type": "text/plain"}, LOOKUP),  # 415
    ("POST", {}, {"content-type": FORM}, "timeout=1"),  # 400: no query
    ("GET", {"query": "   "}, {}, None),  # 400: empty
    ("GET", {}, {"accept": "text/turtle"}, None),  # no query: the Service Description, by the router
    ("OPTIONS", {}, {"origin": "https://a.example", "access-control-request-method": "POST"}, None),
    ("DELETE", {}, {}, None),  # 405, by the router
]


def _send(
    client: TestClient, method: str, params: dict[str, str], headers: dict[str, str], body: str | None
) -> Any:
    return client.request(method, "/sparql", params=params, headers=headers, content=body)


@pytest.fixture(scope="module")
def clients(store: OxigraphStore) -> tuple[TestClient, TestClient]:
    """The direct app and its reference; their answer caches see the same requests in the same order."""
    return TestClient(_app(store, direct=True)), TestClient(_app(store, direct=False))


@pytest.mark.parametrize(("method", "params", "headers", "body"), REQUESTS)
def test_every_protocol_request_gets_the_answer_the_router_gives(
    clients: tuple[TestClient, TestClient],
    method: str,
    params: dict[str, str],
    headers: dict[str, str],
    body: str | None,
) -> None:
    direct, routed = clients
    got, want = _send(direct, method, params, headers, body), _send(routed, method, params, headers, body)
    assert (got.status_code, got.headers.multi_items(), got.content) == (
        want.status_code,
        want.headers.multi_items(),
        want.content,
    )


def test_a_query_is_answered_without_the_router_and_a_description_through_it(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached: list[str] = []
    handle = sparql.SparqlRoute.handle

    async def counted(self: sparql.SparqlRoute, scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["method"])
        await handle(self, scope, receive, send)

    monkeypatch.setattr(sparql.SparqlRoute, "handle", counted)
    client = TestClient(_app(store, direct=True))
    answer = client.get("/sparql", params={"query": LOOKUP}, headers={"accept": JSON})
    assert answer.status_code == 200
    assert {b["p"]["value"] for b in answer.json()["results"]["bindings"]} >= {f"{EX}title", f"{EX}year"}
    assert (
        client.post("/sparql", content=SCAN, headers={"content-type": "application/sparql-query"}).status_code
        == 200
    )
    assert client.get("/sparql", params={"query": "SELEC"}).status_code == 400
    assert reached == []
    assert client.get("/sparql", headers={"accept": "text/turtle"}).status_code == 200
    assert reached == ["GET"]  # a GET without a query: the route's, as before


def test_the_access_log_and_the_metrics_say_the_same(
    store: OxigraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    lines: dict[bool, list[str]] = {}
    metrics: dict[bool, list[str]] = {}
    for direct in (True, False):
        app = _app(store, direct=direct)
        client = TestClient(app)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="plankg.access"):
            client.get("/sparql", params={"query": LOOKUP}, headers={"accept": JSON})
            client.head("/sparql", params={"query": LOOKUP})
            client.get("/sparql", params={"query": "SELEC"})
        lines[direct] = [re.sub(r" [0-9.]+ ms", "", r.getMessage()) for r in caplog.records]
        metrics[direct] = [
            line
            for line in app.state.metrics.render().splitlines()
            if line.startswith("plankg_http_requests_total") and "/sparql" in line
        ]
    assert lines[True] == lines[False]
    assert any("200" in line and "rows as json" in line for line in lines[True])
    assert metrics[True] == metrics[False] and metrics[True]
