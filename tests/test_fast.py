"""/sparql GETs answered at the HTTP protocol (server.protocol.fast), over real sockets.

The fast path must change nothing but the cost: every request gets the same status line, headers (in
order, uvicorn's own included) and body from a server whose protocol has it as from one whose protocol
does not, errors included, with the same log lines and metrics; and it must really answer the
requests it is for without the app.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn

from server.app import create_app
from server.ops.slowclients import guarded_protocol
from server.protocol import fast as fast_module
from server.settings import Settings
from server.stores import oxigraph
from server.stores.oxigraph import OxigraphStore

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
EX = "http://example.org/"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{EX}plan> ?p ?o }}"  # the bounded lane: 7 rows
BY_OBJECT = f"SELECT ?s WHERE {{ ?s <{EX}partOf> <{EX}plan> }}"  # the lane: 2 rows (the default graph)
SCAN = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"  # a worker's
GRAPH = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"  # a worker's
JSON = "application/sparql-results+json"
# Twelve unrelated patterns: a cross product no time limit sees the end of (tests/test_timeout.py).
HOSTILE = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(12)) + " }"


@pytest.fixture(scope="module")
def store() -> Iterator[OxigraphStore]:
    s = OxigraphStore(None, data_files=[SAMPLE], workers=2, prefixes={"ex": EX})
    yield s
    s.close()


class Running:
    """An app served by uvicorn in a thread on a loopback port, with or without the fast path."""

    def __init__(self, store: OxigraphStore, settings: Settings, *, fast: bool) -> None:
        self.app = create_app(settings, store)
        config = uvicorn.Config(
            self.app,
            http=guarded_protocol(fast=fast),
            access_log=False,
            proxy_headers=False,
            log_config=None,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    def exchange(self, raw: bytes, answers: int = 1) -> list[bytes]:
        """Send ``raw`` on one connection and read ``answers`` responses (whole, as bytes)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as conn:
            conn.sendall(raw)
            buffer = b""
            out: list[bytes] = []
            heads = [m for m in re.finditer(rb"(?m)^(GET|HEAD|POST|OPTIONS|DELETE) ", raw)]
            methods = [m.group(1) for m in heads]
            while len(out) < answers:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    assert chunk, f"the connection closed early: {buffer!r}"
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *([0-9]+)", head)
                size = 0 if methods[len(out)] == b"HEAD" or length is None else int(length.group(1))
                if length is None and b"transfer-encoding: chunked" in head.lower():
                    while not buffer.endswith(b"0\r\n\r\n"):
                        chunk = conn.recv(65536)
                        assert chunk
                        buffer += chunk
                    size = len(buffer)
                while len(buffer) < size:
                    chunk = conn.recv(65536)
                    assert chunk, "the connection closed inside a body"
                    buffer += chunk
                out.append(head + b"\r\n\r\n" + buffer[:size])
                buffer = buffer[size:]
            return out


def _same_second(answer: bytes) -> bytes:
    """The answer with uvicorn's Date header blanked (the two servers may answer a second apart)."""
    return re.sub(rb"(?m)^date: [^\r]*", b"date: -", answer)


def _get(params: dict[str, str], headers: dict[str, str] | None = None, method: str = "GET") -> bytes:
    lines = [f"{method} /sparql?{urlencode(params)} HTTP/1.1", "host: testserver"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


# (raw request bytes, answers): in the lane, cache hits, every format, Accept and Accept-Encoding
# variant, CORS, HEAD, HTTP/1.0, Connection: close, pipelining; and what goes to the app: the errors
# of the request and of the lane, a worker's query, the description, a POST, a body on a GET.
REQUESTS: list[tuple[bytes, int]] = [
    (_get({"query": LOOKUP}, {"accept": JSON}), 1),
    (_get({"query": LOOKUP}, {"accept": JSON}), 1),  # now a cache hit
    (_get({"query": LOOKUP}, {"accept": "text/csv", "origin": "https://a.example"}), 1),
    (_get({"query": LOOKUP, "format": "xml"}, {"accept-encoding": "gzip"}), 1),  # over 1000 bytes: gzip
    (_get({"query": LOOKUP, "format": "xml"}, {"accept-encoding": "gzip;q=0, br"}), 1),
    (_get({"query": LOOKUP, "format": "tsv"}, {"origin": "https://b.example", "accept-encoding": "gzip"}), 1),
    (_get({"query": BY_OBJECT}, {"accept": "application/sparql-results+xml;q=0.5, */*;q=0.1"}), 1),
    (_get({"query": f"ASK {{ <{EX}plan> ?p ?o }}"}, {"accept": JSON}), 1),
    (_get({"query": LOOKUP}, {"accept": JSON}, method="HEAD"), 1),
    (_get({"query": LOOKUP + " # new"}, {"accept": JSON, "connection": "close"}), 1),
    (_get({"query": LOOKUP}).replace(b"HTTP/1.1", b"HTTP/1.0"), 1),
    (_get({"query": LOOKUP + " #1"}) + _get({"query": LOOKUP + " #2"}, {"accept": "text/csv"}), 2),
    (_get({"query": LOOKUP + " #3"}) + _get({"query": SCAN}) + _get({"query": LOOKUP + " #4"}), 3),
    (_get({"query": "SELECT ?p ?o WHERE { nope:plan ?p ?o }"}, {"accept": JSON}), 1),  # 400: the engine
    (_get({"query": "SELEC nothing"}, {"accept": JSON}), 1),  # 400
    (_get({"query": LOOKUP}, {"accept": "image/png"}), 1),  # 406
    (_get({"query": LOOKUP, "timeout": "soon"}), 1),  # 400
    (_get({"query": LOOKUP, "default-graph-uri": f"{EX}extra"}), 1),  # not the lane's
    (_get({"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}), 1),  # 400
    (_get({"query": f"SELECT ?o {{ <{EX}service> ?p ?o }}"}), 1),  # mentions service: a worker's
    (_get({"update": "DROP ALL"}), 1),  # 403
    (_get({"query": "   "}), 1),  # 400: empty
    (_get({"query": SCAN}, {"accept": JSON, "accept-encoding": "gzip"}), 1),
    # A worker's query (the fast path runs it: server.protocol.fast.FastAnswers.answer_worker), in every
    # results and graph format, gzip, CORS, HEAD, Connection: close, HTTP/1.0, pipelined, then cached.
    (_get({"query": SCAN + " #w1"}, {"accept": JSON}), 1),
    (_get({"query": SCAN + " #w1"}, {"accept": JSON}), 1),  # the cache filled by the worker's answer: a hit
    (_get({"query": SCAN + " #w2", "format": "xml"}, {"accept-encoding": "gzip"}), 1),
    (_get({"query": SCAN + " #w3"}, {"accept": "text/csv", "origin": "https://a.example"}), 1),
    (_get({"query": SCAN + " #w4"}, {"accept": "text/tab-separated-values", "accept-encoding": "gzip"}), 1),
    (_get({"query": SCAN + " #w5"}, {"accept": JSON}, method="HEAD"), 1),
    (_get({"query": SCAN + " #w6"}, {"accept": JSON, "connection": "close"}), 1),
    (_get({"query": SCAN + " #w7"}).replace(b"HTTP/1.1", b"HTTP/1.0"), 1),
    (_get({"query": SCAN + " #w8"}) + _get({"query": SCAN + " #w9"}) + _get({"query": LOOKUP + " #w"}), 3),
    (_get({"query": "ASK { ?s ?p ?o FILTER(?o = 7) }"}, {"accept": "application/sparql-results+xml"}), 1),
    (_get({"query": GRAPH}, {"accept": "text/turtle"}), 1),
    (_get({"query": GRAPH + " #g1"}, {"accept": "application/n-triples", "accept-encoding": "gzip"}), 1),
    (_get({"query": GRAPH + " #g2"}, {"accept": "application/ld+json"}), 1),
    (_get({"query": GRAPH + " #g3"}, {"accept": "application/rdf+xml"}), 1),
    (_get({"query": GRAPH + " #g4"}, {"accept": "application/n-quads"}), 1),
    (_get({"query": GRAPH + " #g5"}, {"accept": "application/trig", "origin": "https://b.example"}), 1),
    (_get({"query": GRAPH + " #g6"}, {"accept": JSON}), 1),  # 406: the graph's formats refused (the worker's)
    (_get({"query": "SELECT ?s WHERE { ?s ?p }"}, {"accept": JSON}), 1),  # 400: the worker's syntax error
    # 400: a function the engine does not know (the worker's)
    (_get({"query": "SELECT (<urn:nope>(?s) AS ?x) { ?s ?p ?o }"}, {"accept": JSON}), 1),
    (_get({}, {"accept": "text/turtle"}).replace(b"/sparql?", b"/sparql"), 1),  # the description
    (_get({"query": LOOKUP}).replace(b"\r\n\r\n", b"\r\ncontent-length: 0\r\n\r\n"), 1),
    (_get({"query": LOOKUP}).replace(b"/sparql?", b"/sparql/?"), 1),  # 404
    (
        b"POST /sparql HTTP/1.1\r\nhost: testserver\r\ncontent-type: application/sparql-query\r\n"
        + f"content-length: {len(LOOKUP)}\r\n\r\n{LOOKUP}".encode(),
        1,
    ),
]


@pytest.fixture(scope="module")
def servers(store: OxigraphStore) -> Iterator[tuple[Running, Running]]:
    settings = Settings(data_files=(SAMPLE,), without_plan=True)
    pair = (Running(store, settings, fast=True), Running(store, settings, fast=False))
    yield pair
    for running in pair:
        running.stop()


def test_every_request_gets_the_bytes_the_app_gives(servers: tuple[Running, Running]) -> None:
    fast, reference = servers
    for raw, answers in REQUESTS:
        got = [_same_second(a) for a in fast.exchange(raw, answers)]
        want = [_same_second(a) for a in reference.exchange(raw, answers)]
        assert got == want, raw


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The status of every answer the fast path gives itself."""
    answered: list[int] = []
    answer = fast_module.FastAnswers.answer

    def counting(self: fast_module.FastAnswers, scope: dict[str, Any]) -> fast_module.FastAnswer | None:
        out = answer(self, scope)
        if out is not None:
            answered.append(out.status)
        return out

    monkeypatch.setattr(fast_module.FastAnswers, "answer", counting)
    return answered


def test_lane_queries_and_cache_hits_are_answered_without_the_app(
    servers: tuple[Running, Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, reference = servers
    answered = _counted(monkeypatch)
    fast.exchange(_get({"query": LOOKUP + " # fresh"}, {"accept": JSON}))
    fast.exchange(_get({"query": SCAN + " # fresh"}, {"accept": JSON}))  # a worker's: answer_worker's
    fast.exchange(_get({"query": SCAN + " # fresh"}, {"accept": JSON}))  # now in the cache: answer's
    fast.exchange(_get({"query": "SELEC"}))  # an error: the app's
    assert answered == [200, 200]
    reference.exchange(_get({"query": LOOKUP + " # other"}, {"accept": JSON}))
    assert answered == [200, 200]  # a protocol without the fast path never offers it


@pytest.mark.parametrize(
    "queries",
    [
        [LOOKUP, LOOKUP, LOOKUP, "SELECT ?p ?o WHERE { nope:plan ?p ?o }"],  # the lane's; its error
        [SCAN, SCAN, GRAPH, "SELECT ?s WHERE { ?s ?p }"],  # a worker's, filling the cache; its error
    ],
)
def test_the_access_log_and_the_metrics_say_the_same(
    store: OxigraphStore, caplog: pytest.LogCaptureFixture, queries: list[str]
) -> None:
    settings = Settings(data_files=(SAMPLE,), without_plan=True)
    lines: dict[bool, list[str]] = {}
    metrics: dict[bool, list[str]] = {}
    for with_fast in (True, False):
        running = Running(store, settings, fast=with_fast)
        try:
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="plankg.access"):
                running.exchange(_get({"query": queries[0]}, {"accept": JSON}))
                running.exchange(_get({"query": queries[1]}, {"accept": JSON}))
                running.exchange(_get({"query": queries[2]}, method="HEAD"))
                running.exchange(_get({"query": queries[3]}))
            lines[with_fast] = [re.sub(r" [0-9.]+ ms", "", r.getMessage()) for r in caplog.records]
            metrics[with_fast] = [
                re.sub(r"_(sum|bucket)\{.*", "", line)
                for line in running.app.state.metrics.render().splitlines()
                if line.startswith(("plankg_http_requests_total", "plankg_answer_cache", "plankg_query"))
            ]
        finally:
            running.stop()
    assert lines[True] == lines[False]
    assert [line.split(" ", 3)[:3] for line in lines[True]] == [
        ["GET", "/sparql", "200"],
        ["GET", "/sparql", "200"],
        ["HEAD", "/sparql", "200"],
        ["GET", "/sparql", "400"],
    ]
    assert "(cached)" in lines[True][1] and "(cached)" not in lines[True][0]
    assert metrics[True] == metrics[False] and metrics[True]


def test_a_spent_query_time_budget_is_a_429_on_the_fast_path_too(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A budget that one lane query spends: the next query of that client is refused until it recovers.
    settings = Settings(
        data_files=(SAMPLE,), without_plan=True, client_query_seconds=1e-9, answer_cache_bytes=0
    )
    answered = _counted(monkeypatch)
    got: dict[bool, list[bytes]] = {}
    for with_fast in (True, False):
        running = Running(store, settings, fast=with_fast)
        try:
            got[with_fast] = [
                _same_second(running.exchange(_get({"query": f"{LOOKUP} #{n}"}, {"accept": JSON}))[0])
                for n in range(3)
            ]
        finally:
            running.stop()
    assert got[True] == got[False]
    assert [answer.split(b" ", 2)[1] for answer in got[True]] == [b"200", b"429", b"429"]
    assert answered == [200]  # the 429s are the app's handler's


def test_the_row_limit_and_an_answer_longer_than_the_lane_reads(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered = _counted(monkeypatch)
    for settings, bounded_rows, status in (
        (Settings(data_files=(SAMPLE,), without_plan=True, max_result_rows=3), 1000, b"400"),  # too many rows
        (Settings(data_files=(SAMPLE,), without_plan=True), 3, b"200"),  # the lane gives up: a worker answers
    ):
        monkeypatch.setattr(oxigraph, "BOUNDED_ROWS", bounded_rows)
        got: dict[bool, bytes] = {}
        for with_fast in (True, False):
            running = Running(store, settings, fast=with_fast)
            try:
                got[with_fast] = _same_second(running.exchange(_get({"query": LOOKUP}, {"accept": JSON}))[0])
            finally:
                running.stop()
        assert got[True] == got[False]
        assert got[True].split(b" ", 2)[1] == status
    assert answered == []


def test_a_fault_of_the_fast_path_leaves_the_request_to_the_app(
    servers: tuple[Running, Running], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fast, reference = servers

    def broken(self: fast_module.FastAnswers, scope: dict[str, Any]) -> fast_module.FastAnswer | None:
        raise RuntimeError("a fault")

    monkeypatch.setattr(fast_module.FastAnswers, "answer", broken)
    raw = _get({"query": LOOKUP + " # after a fault"}, {"accept": JSON})
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        got = _same_second(fast.exchange(raw)[0])
    assert got == _same_second(reference.exchange(raw)[0])
    assert got.startswith(b"HTTP/1.1 200 ")
    assert any("the fast path failed" in r.getMessage() for r in caplog.records)


def test_a_worker_s_query_is_read_looked_up_and_classified_once(
    servers: tuple[Running, Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.protocol import sparql

    fast, _ = servers
    calls: dict[str, int] = {"parse_qsl": 0, "lane_shape": 0}
    parse_qsl, lane_shape = sparql.parse_qsl, oxigraph.lane_shape

    def counted_parse(text: str) -> list[tuple[str, str]]:
        calls["parse_qsl"] += 1
        return parse_qsl(text)

    def counted_shape(query: str) -> Any:
        calls["lane_shape"] += 1
        return lane_shape(query)

    monkeypatch.setattr(sparql, "parse_qsl", counted_parse)
    monkeypatch.setattr(oxigraph, "lane_shape", counted_shape)
    cache = fast.app.state.answer_cache
    misses = cache.misses
    answer = fast.exchange(_get({"query": SCAN + " # once"}, {"accept": JSON}))[0]
    assert answer.startswith(b"HTTP/1.1 200 ") and b"x-cache: miss" in answer
    assert calls == {"parse_qsl": 1, "lane_shape": 1}
    assert cache.misses == misses + 1


def test_an_unavailable_store_is_the_app_s_503_without_a_fault_of_the_fast_path(
    servers: tuple[Running, Running], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fast, reference = servers
    # Both servers share the module's store: marked gone as its watcher marks it.
    monkeypatch.setattr(fast.app.state.store, "_down", "the store at its path is missing")
    raw = _get({"query": LOOKUP + " # while unavailable"}, {"accept": JSON})
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        got = _same_second(fast.exchange(raw)[0])
    assert got == _same_second(reference.exchange(raw)[0])
    assert got.startswith(b"HTTP/1.1 503 ")
    assert not any("the fast path failed" in r.getMessage() for r in caplog.records)


def _counted_workers(monkeypatch: pytest.MonkeyPatch) -> list[int | str]:
    """The status of every worker's query the fast path answers itself ("app" for those it hands to
    the app with what became of them)."""
    outcomes: list[int | str] = []
    answer_worker = fast_module.FastAnswers.answer_worker

    async def counting(self: fast_module.FastAnswers, *args: Any) -> Any:
        out = await answer_worker(self, *args)
        outcomes.append(out.status if isinstance(out, fast_module.FastAnswer) else "app")
        return out

    monkeypatch.setattr(fast_module.FastAnswers, "answer_worker", counting)
    return outcomes


def _app_route(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The query of every /sparql request the app's endpoint (server.protocol.direct) answers."""
    from server.protocol import direct

    reached: list[str] = []
    answer_protocol = direct.answer_protocol

    async def counting(request: Any, req: Any) -> Any:
        reached.append(req.query)
        return await answer_protocol(request, req)

    monkeypatch.setattr(direct, "answer_protocol", counting)
    return reached


def test_a_worker_s_query_is_answered_by_the_protocol_without_the_app(
    servers: tuple[Running, Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, reference = servers
    outcomes = _counted_workers(monkeypatch)
    reached = _app_route(monkeypatch)
    answer = fast.exchange(_get({"query": SCAN + " # by the protocol"}, {"accept": JSON}))[0]
    assert answer.startswith(b"HTTP/1.1 200 ") and b"x-cache: miss" in answer
    assert outcomes == [200] and reached == []  # the app's endpoint never saw it
    # An error of the worker: the fast path ran the query once, the app answers with what it raised.
    calls = 0
    query = fast.app.state.store.query

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return query(*args, **kwargs)

    monkeypatch.setattr(fast.app.state.store, "query", counted)
    error = fast.exchange(_get({"query": "SELECT ?s WHERE { ?s ?p }"}, {"accept": JSON}))[0]
    assert error.startswith(b"HTTP/1.1 400 ") and b"Malformed query" in error
    assert outcomes == [200, "app"] and reached == ["SELECT ?s WHERE { ?s ?p }"] and calls == 1
    reference.exchange(_get({"query": SCAN + " # by the app"}, {"accept": JSON}))
    assert outcomes == [200, "app"]  # a protocol without the fast path never offers it


def test_too_many_rows_from_a_worker_is_the_app_s_400(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_files=(SAMPLE,), without_plan=True, max_result_rows=3)
    outcomes = _counted_workers(monkeypatch)
    got: dict[bool, bytes] = {}
    for with_fast in (True, False):
        running = Running(store, settings, fast=with_fast)
        try:
            got[with_fast] = _same_second(running.exchange(_get({"query": SCAN}, {"accept": JSON}))[0])
        finally:
            running.stop()
    assert got[True] == got[False]
    assert got[True].startswith(b"HTTP/1.1 400 ") and b"Result too large" in got[True]
    assert outcomes == ["app"]


def test_a_spooled_answer_is_sent_by_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    spooling = OxigraphStore(None, data_files=[SAMPLE], workers=1, prefixes={"ex": EX}, spool_bytes=100)
    outcomes = _counted_workers(monkeypatch)
    settings = Settings(data_files=(SAMPLE,), without_plan=True)
    got: dict[bool, list[bytes]] = {}
    try:
        for with_fast in (True, False):
            running = Running(spooling, settings, fast=with_fast)
            try:
                got[with_fast] = [
                    _same_second(running.exchange(_get({"query": SCAN}, headers))[0])
                    for headers in ({"accept": JSON}, {"accept": "text/csv", "accept-encoding": "gzip"})
                ]
            finally:
                running.stop()
    finally:
        spooling.close()
    assert got[True] == got[False]
    assert all(a.startswith(b"HTTP/1.1 200 ") and b"x-cache: miss" in a for a in got[True])
    assert outcomes == ["app", "app"]  # handed over with the spooled outcome, not evaluated again


@pytest.fixture(scope="module")
def slow_store() -> Iterator[OxigraphStore]:
    """A store of its own for the queries that get their worker killed."""
    s = OxigraphStore(None, data_files=[SAMPLE], workers=2, prefixes={"ex": EX})
    yield s
    s.close()


def test_a_worker_s_query_past_its_time_limit_is_the_app_s_503(
    slow_store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_files=(SAMPLE,), without_plan=True, query_timeout=0.5)
    outcomes = _counted_workers(monkeypatch)
    got: dict[bool, bytes] = {}
    timeouts: dict[bool, list[str]] = {}
    for with_fast in (True, False):
        running = Running(slow_store, settings, fast=with_fast)
        try:
            started = time.monotonic()
            got[with_fast] = _same_second(running.exchange(_get({"query": HOSTILE}, {"accept": JSON}))[0])
            assert 0.5 <= time.monotonic() - started < 5
            timeouts[with_fast] = [
                line
                for line in running.app.state.metrics.render().splitlines()
                if line.startswith("plankg_query_timeouts_total")
            ]
        finally:
            running.stop()
    assert got[True] == got[False]
    assert got[True].startswith(b"HTTP/1.1 503 ") and b"time limit of 0.5 s" in got[True]
    assert timeouts[True] == timeouts[False] == ["plankg_query_timeouts_total 1"]
    assert outcomes == ["app"]


def test_a_client_that_leaves_stops_its_worker_s_query_499(
    slow_store: OxigraphStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_files=(SAMPLE,), without_plan=True, query_timeout=60)
    outcomes = _counted_workers(monkeypatch)
    lines: dict[bool, list[str]] = {}
    for with_fast in (True, False):
        running = Running(slow_store, settings, fast=with_fast)
        try:
            before = set(slow_store.worker_pids())
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="plankg.access"):
                conn = socket.create_connection(("127.0.0.1", running.port), timeout=20)
                conn.sendall(_get({"query": HOSTILE}, {"accept": JSON}))
                time.sleep(0.5)  # the query runs
                conn.close()
                deadline = time.monotonic() + 20
                while not caplog.records:
                    assert time.monotonic() < deadline, "the query was not stopped"
                    time.sleep(0.05)
            lines[with_fast] = [re.sub(r" [0-9.]+ ms", "", r.getMessage()) for r in caplog.records]
            assert before - set(slow_store.worker_pids())  # its worker was stopped (and replaced)
        finally:
            running.stop()
    assert lines[True] == lines[False]
    assert [line.split(" ", 3)[:3] for line in lines[True]] == [["GET", "/sparql", "499"]]
    assert outcomes == ["app"]


def test_a_client_past_its_limits_gets_the_app_s_429_from_the_worker_path(
    slow_store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One query at a time and none waiting: while the first runs, the second is refused at admission.
    settings = Settings(
        data_files=(SAMPLE,), without_plan=True, query_timeout=1.0, client_queries=1, client_queue=0
    )
    outcomes = _counted_workers(monkeypatch)
    got: dict[bool, list[bytes]] = {}
    for with_fast in (True, False):
        running = Running(slow_store, settings, fast=with_fast)
        try:
            with socket.create_connection(("127.0.0.1", running.port), timeout=20) as first:
                first.sendall(_get({"query": HOSTILE}, {"accept": JSON}))
                deadline = time.monotonic() + 10
                while running.app.state.fairness.stats()["running"] == 0:
                    assert time.monotonic() < deadline, "the first query did not start"
                    time.sleep(0.01)
                refused = running.exchange(_get({"query": SCAN + " # past the limit"}, {"accept": JSON}))[0]
                timed_out = b""
                while b"\r\n\r\n" not in timed_out or not timed_out.endswith(b"}"):
                    chunk = first.recv(65536)
                    assert chunk
                    timed_out += chunk
            got[with_fast] = [_same_second(refused), _same_second(timed_out)]
        finally:
            running.stop()
    assert got[True] == got[False]
    assert [answer.split(b" ", 2)[1] for answer in got[True]] == [b"429", b"503"]
    assert outcomes == ["app", "app"]
