"""server.stores.remote over a fake engine on loopback that records what it is asked.

What a real engine cannot be made to do on demand is faked here: being slow, being down, cutting a
result at its row cap, refusing on its cost estimate. The fake answers the record query (the published
build) like a real engine and every other query as the test says. (tests/test_virtuoso.py runs the
same store over a real Virtuoso.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from server.app import create_app
from server.errors import EngineUnavailable, QueryNotSupported, StoreMissing
from server.protocol.results import Literal, Solutions
from server.settings import Settings, SettingsError
from server.stores.querytext import QueryForm, query_form, with_base
from server.stores.remote import Credentials, RemoteStore
from tests.conftest import TestClient

BASE = "http://127.0.0.1:8000/"
BUILD_GRAPH = BASE + "id/graph/build/b-1"
NAMED = BASE + "id/graph/validation"
RESULTS_JSON = {"Accept": "application/sparql-results+json"}


def record_answer(build_id: str = "b-1") -> dict[str, object]:
    def lit(value: str, datatype: str | None = None) -> dict[str, str]:
        return {"type": "literal", "value": value, **({"datatype": datatype} if datatype else {})}

    integer = "http://www.w3.org/2001/XMLSchema#integer"
    row = {
        "id": lit(build_id),
        "default": {"type": "uri", "value": BUILD_GRAPH},
        "named": {"type": "uri", "value": NAMED},
        "total": {"type": "typed-literal", "datatype": integer, "value": "12"},
        "defaultTriples": lit("10", integer),
    }
    return {"head": {"vars": list(row)}, "results": {"bindings": [row]}}


@dataclass
class Reply:
    status: int = 200
    body: bytes = (
        b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"uri","value":"http://e/x"}}]}}'
    )
    content_type: str = "application/sparql-results+json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeEngine:
    """A SPARQL endpoint on a free loopback port: records each request (form fields and headers)."""

    reply: Reply = field(default_factory=Reply)
    build_id: str = "b-1"
    published: bool = True
    requests: list[dict[str, object]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/sparql"

    def queries(self) -> list[dict[str, object]]:
        """The requests other than the store's reads of the published record."""
        return [r for r in self.requests if "/id/graph/published" not in str(r["default-graph-uri"])]

    def start(self) -> None:
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                engine.requests.append(
                    {
                        "query": form.get("query", [""])[0],
                        "default-graph-uri": form.get("default-graph-uri", []),
                        "named-graph-uri": form.get("named-graph-uri", []),
                        "accept": self.headers.get("accept"),
                        "authorization": self.headers.get("authorization"),
                    }
                )
                if "/id/graph/published" in str(form.get("default-graph-uri")):
                    record = record_answer(engine.build_id)
                    if not engine.published:
                        record["results"] = {"bindings": []}
                    reply = Reply(body=json.dumps(record).encode())
                else:
                    reply = engine.reply
                time.sleep(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(OSError):  # the store stopped waiting (a timeout)
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture()
def engine() -> Iterator[FakeEngine]:
    fake = FakeEngine()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture()
def app_over(engine: FakeEngine) -> Callable[..., TestClient]:
    clients: list[TestClient] = []

    def make(**settings: object) -> TestClient:
        client = TestClient(create_app(Settings(remote_endpoint=engine.endpoint, **settings)))  # type: ignore[arg-type]
        client.__enter__()
        clients.append(client)
        return client

    yield make  # type: ignore[misc]
    for client in clients:
        client.__exit__(None, None, None)


def test_every_query_names_the_build_graphs_explicitly(
    engine: FakeEngine, app_over: Callable[..., TestClient]
) -> None:
    client = app_over()
    response = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?p ?o }"}, headers=RESULTS_JSON)
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"] == [{"x": {"type": "uri", "value": "http://e/x"}}]
    (sent,) = engine.queries()
    assert sent["default-graph-uri"] == [BUILD_GRAPH]
    assert sent["named-graph-uri"] == [NAMED]
    assert sent["accept"] == "application/sparql-results+json"
    # A client's own dataset: a graph of the build is passed on, any other stands for nothing.
    client.get(
        "/sparql",
        params={"query": "SELECT ?x WHERE { ?x ?p ?o }", "default-graph-uri": [NAMED, "urn:system"]},
        headers=RESULTS_JSON,
    )
    assert engine.queries()[-1]["default-graph-uri"] == [NAMED, "urn:plankg:no-such-graph"]


def test_service_is_refused_before_any_engine_is_asked(
    engine: FakeEngine, app_over: Callable[..., TestClient], canary: tuple[int, list[object]]
) -> None:
    port, hits = canary
    client = app_over()
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query}, headers=RESULTS_JSON)
    assert response.status_code == 400, response.text
    assert response.json()["title"] == "Query refused"
    assert engine.queries() == [] and hits == []


def test_a_slow_engine_is_a_504_at_the_limit_not_a_hang(
    engine: FakeEngine, app_over: Callable[..., TestClient]
) -> None:
    engine.reply = Reply(delay=5.0)
    client = app_over(query_timeout=1.0)
    start = time.monotonic()
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=RESULTS_JSON)
    elapsed = time.monotonic() - start
    assert response.status_code == 504, response.text
    assert response.json() == {
        "type": "about:blank",
        "title": "Engine timed out",
        "status": 504,
        "detail": "the engine did not answer within the query's time limit of 1 s",
        "limit": 1.0,
    }
    assert 1.0 <= elapsed < 2.0
    # A shorter limit asked by the client is kept too.
    start = time.monotonic()
    response = client.get("/sparql", params={"query": "ASK {}", "timeout": "0.3"}, headers=RESULTS_JSON)
    assert response.status_code == 504 and time.monotonic() - start < 1.0


def test_an_engine_that_goes_down_is_a_502_with_the_reason(
    engine: FakeEngine, app_over: Callable[..., TestClient]
) -> None:
    client = app_over()
    engine.stop()
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=RESULTS_JSON)
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["title"] == "Engine unavailable"
    assert body["detail"].startswith(f"the engine at {engine.endpoint} cannot be reached: ConnectError")


def test_an_engine_down_at_start_is_said_before_serving() -> None:
    from tests.engines.virtuoso import free_port

    with pytest.raises(EngineUnavailable, match="cannot be reached: ConnectError"):
        RemoteStore(f"http://127.0.0.1:{free_port()}/sparql", BASE, refresh_interval=None)


def test_nothing_published_is_said_at_start(engine: FakeEngine) -> None:
    engine.published = False
    with pytest.raises(StoreMissing, match=r"nothing is published at .*run `plankg publish` first"):
        RemoteStore(engine.endpoint, BASE, refresh_interval=None)


@pytest.mark.parametrize(
    ("reply", "status", "title", "detail"),
    [
        (
            Reply(
                500, b"Virtuoso S1T00 Error SR171: Transaction timed out\n\nSPARQL query:\n...", "text/plain"
            ),
            504,
            "Engine timed out",
            "the engine stopped the query at its own time limit: Virtuoso S1T00 Error SR171: Transaction "
            "timed out SPARQL query: ...",
        ),
        (
            Reply(
                500,
                b"Virtuoso 42000 Error The estimated execution time 1200 (sec) exceeds the limit of 400 "
                b"(sec).",
                "text/plain",
            ),
            503,
            "Engine limit",
            "the engine refused the query as too costly (its estimate): Virtuoso 42000 Error The "
            "estimated execution time 1200 (sec) exceeds the limit of 400 (sec).",
        ),
        (
            Reply(503, b"overloaded", "text/plain"),
            502,
            "Engine unavailable",
            "the engine failed (HTTP 503): overloaded",
        ),
        (
            Reply(200, b"<html>not results</html>", "text/html"),
            502,
            "Engine unavailable",
            "the engine's answer could not be read: Expecting value: line 1 column 1 (char 0)",
        ),
    ],
)
def test_engine_errors_are_mapped_with_their_reason(
    engine: FakeEngine,
    app_over: Callable[..., TestClient],
    reply: Reply,
    status: int,
    title: str,
    detail: str,
) -> None:
    engine.reply = reply
    client = app_over()
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=RESULTS_JSON)
    assert response.status_code == status, response.text
    assert (response.json()["title"], response.json()["detail"]) == (title, detail)


def test_a_result_cut_by_the_engine_is_refused_not_passed_on(
    engine: FakeEngine, app_over: Callable[..., TestClient]
) -> None:
    engine.reply = Reply(headers={"X-SPARQL-MaxRows": "1"})
    response = app_over().get(
        "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=RESULTS_JSON
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the engine cut the result at 1 rows, its own limit")


def test_more_rows_than_the_servers_limit_are_refused(
    engine: FakeEngine, app_over: Callable[..., TestClient]
) -> None:
    rows = [{"x": {"type": "literal", "value": str(i)}} for i in range(3)]
    engine.reply = Reply(body=json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": rows}}).encode())
    response = app_over(max_result_rows=2).get(
        "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=RESULTS_JSON
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the result has more than 2 rows")


def test_a_syntax_error_gives_the_line_of_the_clients_query(engine: FakeEngine) -> None:
    engine.reply = Reply(
        400, b"Virtuoso 37000 Error SP030: SPARQL compiler, line 3: syntax error", "text/plain"
    )
    store = RemoteStore(engine.endpoint, BASE, refresh_interval=None)
    try:
        from server.errors import QuerySyntaxError

        with pytest.raises(QuerySyntaxError) as raised:
            store.query("SELECT *\nWHERE { ?s ?p }", base_iri=BASE)  # BASE is prepended: line 3 is 2
        assert raised.value.line == 2
    finally:
        store.close()


def test_credentials_are_sent_and_never_shown(engine: FakeEngine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = Credentials("reader", "s3cret-pw", "basic")
    store = RemoteStore(engine.endpoint, BASE, credentials=credentials, refresh_interval=None)
    try:
        store.query("SELECT * WHERE { ?s ?p ?o }")
    finally:
        store.close()
    assert engine.requests[-1]["authorization"] == "Basic cmVhZGVyOnMzY3JldC1wdw=="
    settings = Settings(remote_endpoint=engine.endpoint, remote_user="reader", remote_password="s3cret-pw")
    assert "s3cret-pw" not in repr(settings) + repr(credentials) + caplog.text
    with pytest.raises(SettingsError, match="go together"):
        Settings(remote_endpoint=engine.endpoint, remote_user="reader")


def test_from_clauses_are_refused_not_silently_overridden(engine: FakeEngine) -> None:
    store = RemoteStore(engine.endpoint, BASE, refresh_interval=None)
    try:
        with pytest.raises(QueryNotSupported, match="FROM and FROM NAMED are not supported"):
            store.query(f"SELECT * FROM <{NAMED}> WHERE {{ ?s ?p ?o }}")
        store.query('SELECT ?from WHERE { ?from ?p "from" }')  # a variable, a string: no clause
    finally:
        store.close()
    assert len(engine.queries()) == 1


def test_a_password_in_the_endpoint_url_is_never_shown() -> None:
    from tests.engines.virtuoso import free_port

    port = free_port()
    with pytest.raises(EngineUnavailable) as raised:
        RemoteStore(f"http://reader:s3cret-pw@127.0.0.1:{port}/sparql", BASE, refresh_interval=None)
    assert "s3cret-pw" not in str(raised.value)
    assert f"http://127.0.0.1:{port}/sparql" in str(raised.value)


def test_a_new_publish_is_served_under_its_build_id(engine: FakeEngine) -> None:
    store = RemoteStore(engine.endpoint, BASE, refresh_interval=0.1)
    try:
        assert store.build_id == "b-1"
        engine.build_id = "b-2"
        deadline = time.monotonic() + 5
        while store.build_id != "b-2" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.build_id == "b-2"
        assert store.query("SELECT * WHERE { ?s ?p ?o }").build_id == "b-2"
    finally:
        store.close()


# --- the query text an engine gets -----------------------------------------------------------


def test_the_base_is_declared_first_and_the_form_is_read_past_the_prologue() -> None:
    assert (
        with_base("PREFIX pk: <def/> SELECT * {}", BASE) == f"BASE <{BASE}>\nPREFIX pk: <def/> SELECT * {{}}"
    )
    assert query_form("# a comment\nPREFIX ex: <http://e/>\nconstruct { } where { }") is QueryForm.CONSTRUCT
    assert query_form("BASE <http://e/> ASK {}") is QueryForm.ASK
    assert query_form("INSERT DATA {}") is None


def test_values_read_from_the_engine_are_the_servers_types(engine: FakeEngine) -> None:
    body = {
        "head": {"vars": ["a", "b", "c"]},
        "results": {
            "bindings": [
                {
                    "a": {
                        "type": "typed-literal",
                        "datatype": "http://www.w3.org/2001/XMLSchema#integer",
                        "value": "7",
                    },
                    "b": {"type": "literal", "xml:lang": "zh", "value": "济南"},
                }
            ]
        },
    }
    engine.reply = Reply(body=json.dumps(body).encode())
    store = RemoteStore(engine.endpoint, BASE, refresh_interval=None)
    try:
        value = store.query("SELECT * WHERE { ?a ?b ?c }").value
    finally:
        store.close()
    assert value == Solutions(
        ("a", "b", "c"),
        (
            (
                Literal("7", "http://www.w3.org/2001/XMLSchema#integer"),
                Literal("济南", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", "zh"),
                None,
            ),
        ),
    )


def test_the_cli_says_what_is_wrong_before_serving_or_publishing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.cli import main
    from tests.engines.virtuoso import free_port

    down = f"http://127.0.0.1:{free_port()}/sparql"
    assert main(["serve", "--remote-endpoint", down], {}) == 1
    assert capsys.readouterr().err == (
        f"plankg: the engine at {down} cannot be reached: ConnectError: [Errno 111] Connection refused\n"
    )
    assert main(["serve", "--remote-endpoint", "ftp://example.org/sparql"], {}) == 2
    assert "the remote endpoint must be an http(s) URL" in capsys.readouterr().err
    assert main(["publish", "--dist", str(tmp_path), down], {}) == 1
    assert capsys.readouterr().err.startswith(f"plankg: {tmp_path}/manifest.json: no build record to publish")
    assert main(["publish", "--dist", str(tmp_path), down], {"PLANKG_REMOTE_USER": "u"}) == 2
    assert "go together" in capsys.readouterr().err
