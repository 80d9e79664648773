"""Several server processes on one port (``plankg serve --processes 2``, a real socket): connections are
answered by both, each request is logged once, /metrics sums both, the time limit still holds, and the
Service Description names the port the request reached.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Namespace, URIRef

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
HOSTILE = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(12)) + " }"
LIMIT = 2.0
REQUESTS = 40
JSON = {"Accept": "application/sparql-results+json"}


@dataclass
class Servers:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("processes")
    port = free_port()
    log = workdir / "server.log"
    scratch = workdir / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PLANKG_QUERY_WORKERS": "1"}
    argv = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--processes", "2"]
    argv += ["--without-plan", "--data", str(SAMPLE), "--query-timeout", str(LIMIT)]
    repository = Path(__file__).resolve().parents[1]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=repository, stdout=sink, stderr=sink, env=env)
    url = f"http://127.0.0.1:{port}"

    def both_ready() -> bool:
        return log.read_text(errors="replace").count("Application startup complete") >= 2

    if not wait_for(both_ready, 90):
        process.kill()
        pytest.fail(f"the server processes did not start:\n{log.read_text(errors='replace')}")
    yield Servers(url, port, process, log)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"the server did not stop on SIGTERM:\n{log.read_text(errors='replace')[-3000:]}")
    assert process.returncode == 0
    # Every server process stopped its query workers and removed its temporary store.
    assert wait_for(lambda: list(scratch.iterdir()) == [], 10), list(scratch.iterdir())


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in the metrics"
    return float(found[1])


def test_two_processes_answer_each_request_logged_once_and_metrics_summed(servers: Servers) -> None:
    # New connections (no keep-alive): the kernel spreads them over the two listening sockets.
    for i in range(REQUESTS):
        r = httpx.get(servers.url + "/sparql", params={"query": f"ASK {{}} # {i}"}, headers=JSON)
        assert r.status_code == 200 and r.json() == {"head": {}, "boolean": True}

    access = re.compile(r"\[(\d+)\] plankg\.access: GET /sparql 200 ")

    def logged() -> list[str]:
        return access.findall(servers.log.read_text(errors="replace"))

    assert wait_for(lambda: len(logged()) >= REQUESTS)
    time.sleep(0.3)
    pids = logged()
    assert len(pids) == REQUESTS  # each request logged once, by the process that answered it
    assert len(set(pids)) == 2, set(pids)  # both processes answered
    assert str(servers.process.pid) not in pids  # the supervisor answers nothing

    sparql_ok = 'plankg_http_requests_total{route="/sparql",method="GET",status="200"}'

    def scrape() -> str:
        return httpx.get(servers.url + "/metrics").text

    # Whichever process the scrape reaches counts both processes' requests.
    assert wait_for(lambda: metric(scrape(), sparql_ok) == REQUESTS, 5), scrape()
    text = scrape()
    assert metric(text, "plankg_server_processes") == 2
    by_process = dict(re.findall(r'^plankg_server_process_requests_total\{pid="(\d+)"\} (\d+)$', text, re.M))
    assert set(by_process) == set(pids)
    for pid in set(pids):
        assert int(by_process[pid]) >= pids.count(pid)
    assert metric(text, "plankg_store_triples") > 0  # the same store: the largest, not the sum
    one = httpx.get(servers.url + "/healthz").json()["triples"]
    assert metric(text, "plankg_store_triples") == one


def test_the_time_limit_holds_in_every_process(servers: Servers) -> None:
    started = time.monotonic()
    statuses = []
    for _ in range(2):  # new connections: the two may land on different processes
        r = httpx.post(servers.url + "/sparql", data={"query": HOSTILE}, headers=JSON, timeout=30)
        statuses.append((r.status_code, r.json()["detail"]))
    seconds = time.monotonic() - started
    assert all(s == 503 and "time limit of 2 s" in d for s, d in statuses), statuses
    assert 2 * LIMIT <= seconds < 2 * LIMIT + 3
    assert wait_for(
        lambda: metric(httpx.get(servers.url + "/metrics").text, "plankg_query_timeouts_total") == 2
    )


def test_the_service_description_names_the_port_the_request_reached(servers: Servers) -> None:
    r = httpx.get(servers.url + "/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = Graph().parse(data=r.text, format="turtle")
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert set(g.subjects(sd.endpoint, None)) == {URIRef(f"http://127.0.0.1:{servers.port}/sparql")}


def test_proxy_headers_from_a_peer_not_trusted_change_nothing_in_any_process(servers: Servers) -> None:
    """Every process runs uvicorn as ``serve`` runs one: server.protocol.forwarded alone decides (no
    PLANKG_TRUSTED_PROXIES here), so a client on loopback claiming https is not believed."""
    forged = {"Accept": "text/turtle", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    for _ in range(6):  # new connections: the kernel spreads them over both processes
        r = httpx.get(servers.url + "/sparql", headers=forged)
        assert r.status_code == 200
        g = Graph().parse(data=r.text, format="turtle")
        assert set(g.subjects(sd.endpoint, None)) == {URIRef(f"http://127.0.0.1:{servers.port}/sparql")}


def server_processes(supervisor: int) -> set[int]:
    """The server processes the supervisor started (its children other than multiprocessing's tracker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == supervisor and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_a_server_process_that_dies_is_replaced(servers: Servers) -> None:
    before = server_processes(servers.process.pid)
    assert len(before) == 2
    victim = min(before)
    os.kill(victim, 9)
    started = servers.log.read_text(errors="replace").count("Application startup complete")

    def replaced() -> bool:
        now = server_processes(servers.process.pid)
        text = servers.log.read_text(errors="replace")
        return len(now) == 2 and victim not in now and text.count("Application startup complete") > started

    assert wait_for(replaced, 60), servers.log.read_text(errors="replace")[-2000:]
    assert f"server process {victim} exited" in servers.log.read_text(errors="replace")
    for _ in range(10):  # new connections, whichever process takes them
        assert httpx.get(servers.url + "/sparql", params={"query": "ASK {}"}, headers=JSON).status_code == 200
    assert wait_for(lambda: metric(httpx.get(servers.url + "/metrics").text, "plankg_server_processes") == 2)
