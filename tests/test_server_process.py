"""A real server process (uvicorn on a free loopback port): the time limit frees the CPU while other
clients are answered, SERVICE never reaches a listening canary, answers are whole before their 200.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from server.settings import Settings

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
HOSTILE = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(12)) + " }"
SIMPLE = "PREFIX ex: <http://example.org/> SELECT ?l WHERE { ex:task1 ex:label ?l }"
LIMIT = 2.0
# How long a server may take to answer /healthz: its query workers have 60 s to start (the store's
# start_timeout), and before them come an interpreter, the app and the temporary store. At load 25 none
# of this module's three servers answered within 30 s (their logs still empty).
START = 120.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(workdir: Path, settings: str = "", limit: float = LIMIT) -> Server:
    """``serve()`` in a process of its own (one server process: it is the one that answers)."""
    port = free_port()
    code = (
        "from pathlib import Path\n"
        "from server.app import serve\n"
        "from server.settings import Settings\n"
        f"serve(Settings(port={port}, data_files=(Path({str(SAMPLE)!r}),), without_plan=True,"
        f" query_timeout={limit}, query_workers=2, server_processes=1{settings}))\n"
    )
    log = workdir / "server.log"
    scratch = workdir / "tmp"  # the server's temporary store (and its spool directory) go here
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=workdir, stdout=sink, stderr=sink, env=env
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"the server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    names = [p.name for p in scratch.iterdir()]  # the temporary store and the spool directory
    assert len(names) == 2 and all(n.startswith("plankg-store-") for n in names)
    assert len([n for n in names if "-spool-" in n]) == 1
    return Server(url, process, log)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("server")
    scratch = workdir / "tmp"
    server = start_server(workdir)
    process = server.process
    log = server.log
    yield server
    workers = children(process.pid) if Path("/proc").is_dir() else []
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"the server did not stop on SIGTERM:\n{log.read_text(errors='replace')[-3000:]}")
    # Stopped cleanly: its query workers are gone and its temporary store removed.
    assert wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers))
    assert list(scratch.iterdir()) == []


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def test_hostile_query_is_stopped_at_the_limit_while_others_are_answered(server: Server) -> None:
    verdict: dict[str, object] = {}
    workers = set(children(server.process.pid)) if Path("/proc").is_dir() else set()

    def hostile() -> None:
        start = time.monotonic()
        r = httpx.post(server.url + "/sparql", data={"query": HOSTILE}, timeout=60)
        verdict.update(status=r.status_code, body=r.json(), seconds=time.monotonic() - start)

    thread = threading.Thread(target=hostile)
    thread.start()
    time.sleep(0.3)
    latencies = []
    # Another client (another source address): one client's queries wait for each other
    # (server.ops.fairness), another client's do not.
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=server.url, timeout=10, transport=other) as client:
        while thread.is_alive():
            start = time.monotonic()
            r = client.get("/sparql", params={"query": SIMPLE})
            latencies.append(time.monotonic() - start)
            assert r.status_code == 200
            assert r.json()["results"]["bindings"][0]["l"]["value"] == "推进山东大学节能改造"
            time.sleep(0.02)
    thread.join()

    assert verdict["status"] == 503
    assert "time limit of 2 s" in verdict["body"]["detail"]  # type: ignore[index]
    assert LIMIT <= verdict["seconds"] < LIMIT + 1.5  # type: ignore[operator]
    latencies.sort()
    p50, worst = statistics.median(latencies), latencies[-1]
    print(
        f"\nhostile query stopped after {verdict['seconds']:.2f} s (limit {LIMIT} s); "
        f"{len(latencies)} simple queries meanwhile: p50 {p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms"
    )
    assert len(latencies) > 10
    assert worst < 1.0

    # The CPU is free: the worker that ran the query is gone and no other keeps computing after the 503.
    if workers:
        assert_killed_and_idle(server, workers)
    metrics = httpx.get(server.url + "/metrics").text
    assert "plankg_query_timeouts_total 1" in metrics
    assert 'plankg_http_requests_total{route="/sparql",method="POST",status="503"} 1' in metrics


def test_a_client_that_hangs_up_frees_its_worker_before_the_limit(server: Server) -> None:
    request = (
        f"GET /sparql?{urlencode({'query': HOSTILE})} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAccept: application/sparql-results+json\r\n\r\n"
    )
    port = int(server.url.rsplit(":", 1)[1])
    workers = set(children(server.process.pid)) if Path("/proc").is_dir() else set()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(request.encode())
        time.sleep(0.3)
    hung_up = time.monotonic()

    def cancelled() -> bool:
        return "GET /sparql 499" in server.log.read_text(errors="replace")

    assert wait_for(cancelled, LIMIT)
    assert time.monotonic() - hung_up < LIMIT - 0.5  # well before the time limit would have struck
    if workers:
        assert_killed_and_idle(server, workers)


def assert_killed_and_idle(server: Server, workers: set[int]) -> None:
    """The worker that ran a stopped query is killed, and the workers that were there before it sit
    idle. A fresh worker starts in the killed one's place: its start-up is CPU that has nothing to do
    with the query, so it is not measured."""
    # Gone means reaped by the server: a SIGKILLed worker's memory is freed in the dying process, at the
    # worker's lower priority, then a thread of the server reaps it: seconds at load 14 (test_timeout.EXIT).
    assert wait_for(lambda: not workers <= set(children(server.process.pid)), 30.0)
    survivors = sorted(workers & set(children(server.process.pid)))
    before = cpu_seconds(survivors)
    time.sleep(0.4)
    assert cpu_seconds(survivors) - before < 0.1


def test_answers_are_whole_before_their_status(server: Server) -> None:
    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
    headers = {"Accept": "text/csv", "Accept-Encoding": "identity"}
    r = httpx.get(server.url + "/sparql", params={"query": query}, headers=headers)
    assert r.status_code == 200
    assert "chunked" not in r.headers.get("transfer-encoding", "")
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.text.count("\r\n") == 1 + int(r.headers["x-result-rows"])


def test_service_never_reaches_the_canary(server: Server, canary: tuple[int, list[object]]) -> None:
    port, hits = canary
    target = f"http://127.0.0.1:{port}/sparql"
    # First, the canary works: a plain client does reach it.
    with pytest.raises(httpx.TransportError):
        httpx.get(target, timeout=2)
    assert wait_for(lambda: len(hits) == 1)
    hits.clear()

    refused = [
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{target}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"PREFIX c: <http://127.0.0.1:{port}/> "
        "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE c:sparql {} } }",
    ]
    for query in refused:
        r = httpx.get(server.url + "/sparql", params={"query": query})
        assert r.status_code == 400, r.text
        assert "SERVICE" in r.json()["detail"]
    # SERVICE SILENT to a host not allowed: the spec's silent failure (one solution, no bindings),
    # not a refusal, and still no connection.
    silent = httpx.get(
        server.url + "/sparql",
        params={"query": f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert silent.status_code == 200, silent.text
    assert silent.json()["results"]["bindings"] == [{}]
    update = httpx.post(server.url + "/sparql", data={"update": f"LOAD <{target}>"})
    assert update.status_code == 403
    # FROM and the protocol's graph parameters name stored graphs; they are never fetched.
    from_clause = httpx.get(
        server.url + "/sparql", params={"query": f"SELECT * FROM <{target}> WHERE {{ ?s ?p ?o }}"}
    )
    assert from_clause.status_code == 200
    as_parameter = httpx.get(
        server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": target}
    )
    assert as_parameter.status_code == 200
    time.sleep(0.5)
    assert hits == []


def test_each_request_is_logged_with_its_duration(server: Server) -> None:
    httpx.get(server.url + "/sparql", params={"query": "ASK {}"})

    def logged() -> list[str]:
        lines = server.log.read_text(errors="replace").splitlines()
        return [line for line in lines if "plankg.access: GET /sparql 200" in line and "boolean" in line]

    assert wait_for(logged)
    assert re.search(r"GET /sparql 200 \d+\.\d ms boolean, 1 rows as json$", logged()[-1])


def wait_for(condition: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


DEFAULT_GRAPH_TRIPLES = 11  # of the sample


def padded_product(ways: int, pad: int) -> str:
    """A cross product of the sample's default graph, each row one long literal (``pad`` x's at its end):
    11**ways rows."""
    patterns = " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(ways))
    parts = ", ".join(f"STR(?s{i})" for i in range(ways))
    return f'SELECT ?x WHERE {{ {patterns} BIND(CONCAT({parts}, "{"x" * pad}") AS ?x) }}'


SPOOL_BYTES = 1_000_000
PLAIN = {"Accept": "application/sparql-results+json", "Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def spooling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("spool"), f", spool_bytes={SPOOL_BYTES}", limit=30)
    yield server
    server.process.terminate()
    server.process.wait(timeout=20)


def peak_resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc")
def test_a_large_answer_is_spooled_and_sent_with_bounded_memory(spooling: Server, server: Server) -> None:
    """An answer over the spool threshold is written whole to a file by the worker and sent from it in
    chunks: the server process's peak memory stays far below the answer's size, the answer still comes
    whole with its Content-Length, and its bytes are those of a server that held it in memory."""
    before = peak_resident_bytes(spooling.process.pid)
    big = {"query": padded_product(4, 3000)}
    r = httpx.get(spooling.url + "/sparql", params=big, headers=PLAIN, timeout=60)
    assert r.status_code == 200, r.text[:500]
    assert "chunked" not in r.headers.get("transfer-encoding", "")
    size = int(r.headers["content-length"])
    assert size == len(r.content) > 40_000_000
    assert int(r.headers["x-result-rows"]) == DEFAULT_GRAPH_TRIPLES**4
    bindings = r.json()["results"]["bindings"]
    assert len(bindings) == DEFAULT_GRAPH_TRIPLES**4 and bindings[0]["x"]["value"].endswith("x" * 3000)
    grown = peak_resident_bytes(spooling.process.pid) - before
    print(f"\n{size / 1e6:.1f} MB answer; the server process's peak memory grew by {grown / 1e6:.1f} MB")
    assert grown < 16_000_000
    assert "rows as json (spooled)" in spooling.log.read_text(errors="replace")

    # Above this server's threshold, below the other's default one: the same bytes either way.
    query = padded_product(3, 1000)
    spooled = httpx.get(spooling.url + "/sparql", params={"query": query}, headers=PLAIN, timeout=30)
    whole = httpx.get(server.url + "/sparql", params={"query": query}, headers=PLAIN, timeout=30)
    assert spooled.status_code == whole.status_code == 200
    assert SPOOL_BYTES < len(whole.content) < Settings().spool_bytes
    assert spooled.content == whole.content
    assert spooled.headers["content-length"] == whole.headers["content-length"]
    assert spooled.text.count("x" * 1000) == DEFAULT_GRAPH_TRIPLES**3
    log = spooling.log.read_text(errors="replace")
    assert re.search(r"GET /sparql 200 \S+ ms solutions, 1331 rows as json \(spooled\)", log)


def test_a_server_killed_mid_answer_leaves_a_detectably_incomplete_response(tmp_path: Path) -> None:
    """Should the server die while it sends a spooled answer, the client gets fewer bytes than the
    Content-Length announced: an error, never a short answer taken for a whole one."""
    server = start_server(tmp_path, f", spool_bytes={SPOOL_BYTES}", limit=30)
    try:
        with (
            httpx.Client(timeout=60) as client,
            client.stream(
                "GET", server.url + "/sparql", params={"query": padded_product(4, 3000)}, headers=PLAIN
            ) as r,
        ):
            assert r.status_code == 200
            announced = int(r.headers["content-length"])
            received = 0
            chunks = r.iter_raw()
            received += len(next(chunks))
            server.process.kill()
            server.process.wait(timeout=10)
            with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|peer closed"):
                for chunk in chunks:
                    received += len(chunk)
        assert 0 < received < announced
    finally:
        if server.process.poll() is None:
            server.process.kill()
