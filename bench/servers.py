"""The servers under test: started on a free loopback port, waited for, stopped (with their children).

Each runs in its own session (process group), so stopping it also ends its children (our query
workers); a server that does not stop on SIGTERM (rdflib-endpoint stuck in a query on its event loop)
is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

HOST = "127.0.0.1"


# One load generator is one client: the per-client limits (server.ops.fairness) would measure
# themselves, not the server, so the bench's plankg servers run with them lifted (bench/noisy.py
# measures them).
LIFTED_LIMITS = {
    "PLANKG_CLIENT_QUERIES": "1000",
    "PLANKG_CLIENT_QUEUE": "100000",
    "PLANKG_CLIENT_QUERY_SECONDS": "0",
    "PLANKG_CLIENT_HEAVY_SECONDS": "0",
    "PLANKG_QUERY_QUEUE": "100000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process: ``argv`` must make it listen on ``port``; queries go to ``sparql_path``."""

    key: str  # short name in the results
    label: str  # as shown in the table
    argv: list[str]
    port: int
    sparql_path: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    canned: bool = False  # serves /queries/{name}
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def query_url(self, sparql: str) -> str:
        return f"{self.origin}{self.sparql_path}?query={quote(sparql, safe='')}"

    def start(self) -> None:
        log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
            )
        finally:
            log.close()

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Until the server answers ``ASK {}`` with 200; RuntimeError if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        url = self.query_url("ASK {}")
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited ({self.process.returncode}); see {self.log_path}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return
            time.sleep(0.2)
        raise RuntimeError(f"{self.label} not ready after {timeout:.0f} s; see {self.log_path}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 10.0) -> str:
        """Stop the server, then what is left of its process group; says how it ended."""
        process = self.process
        if process is None:
            return "not started"
        if process.poll() is not None:
            how = f"had exited ({process.returncode})"
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return how
        process.terminate()  # the server alone first: it stops its own children
        try:
            process.wait(timeout=grace)
            how = "terminated"
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            how = "killed"
        # Children left in the group (a query worker whose parent is gone exits by itself within a
        # second, but do not wait for that).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return how


def ours(
    key: str,
    label: str,
    *,
    python: Path,
    source: Path,
    store: Path,
    dist: Path,
    log_dir: Path,
    cache_bytes: int | None,
) -> Server:
    """``plankg serve`` from the code in ``source`` over the built store; ``cache_bytes=0`` turns the
    answer cache off."""
    port = free_port()
    argv = [str(python), "-m", "server.cli", "serve", "--host", HOST, "--port", str(port)]
    argv += ["--store", str(store), "--dist", str(dist)]
    env = {
        "PYTHONPATH": str(source),
        **LIFTED_LIMITS,
    }
    if cache_bytes is not None:
        env["PLANKG_ANSWER_CACHE_BYTES"] = str(cache_bytes)
    log = log_dir / f"{key}.log"
    return Server(key, label, argv, port, "/sparql", log, env, canned=True, cwd=source)


def oxigraph(*, executable: Path, store: Path, log_dir: Path) -> Server:
    """``oxigraph serve-read-only`` over the same on-disk store, with its defaults (no time limit)."""
    port = free_port()
    argv = [str(executable), "serve-read-only", "--location", str(store), "--bind", f"{HOST}:{port}"]
    return Server("oxigraph", "oxigraph serve-read-only", argv, port, "/query", log_dir / "oxigraph.log")


def rdflib_endpoint(*, executable: Path, data: Path, log_dir: Path) -> Server:
    """``rdflib-endpoint serve`` over a dump file (its endpoint is at ``/``)."""
    port = free_port()
    argv = [str(executable), "serve", "--host", HOST, "--port", str(port), str(data)]
    return Server("rdflib", "rdflib-endpoint", argv, port, "/", log_dir / "rdflib.log")


class VirtuosoPeer(Server):
    """OpenLink Virtuoso 7 (Debian) from a scratch copy of its ini, with the build published into it by
    ``plankg publish`` once it answers; its own ``/sparql`` default graph set to the build's (a row in
    ``DB.DBA.SYS_SPARQL_HOST``), else it would query the union of every graph it holds."""

    def __init__(self, *, directory: Path, dist: Path, python: Path, source: Path, log_dir: Path) -> None:
        from tests.engines.virtuoso import VIRTUOSO, VirtuosoServer

        self.engine = VirtuosoServer(directory)
        self.engine.isql_port, self.engine.http_port = free_port(), free_port()
        (directory / "db").mkdir(parents=True, exist_ok=True)
        (directory / "vsp").mkdir(exist_ok=True)
        config = directory / "virtuoso.ini"
        config.write_text(self.engine.ini(), encoding="utf-8")
        argv = [VIRTUOSO, "+foreground", "+configfile", str(config)]
        log = log_dir / "virtuoso.log"
        super().__init__("virtuoso", "virtuoso-opensource 7", argv, self.engine.http_port, "/sparql", log)
        self.cwd = directory / "db"
        self.dist, self.python, self.source = dist, python, source
        self.loaded = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        if self.loaded:
            return
        super().wait_ready(timeout)
        from tests.engines.virtuoso import ADMIN_PASSWORD, ADMIN_USER

        publish = [str(self.python), "-m", "server.cli", "publish", "--dist", str(self.dist)]
        env = {**os.environ, "PYTHONPATH": str(self.source)}
        env |= {"PLANKG_REMOTE_USER": ADMIN_USER, "PLANKG_REMOTE_PASSWORD": ADMIN_PASSWORD}
        subprocess.run([*publish, self.engine.graph_store], cwd=self.source, env=env, check=True)
        graph = self.default_graph()
        self.engine.isql(
            f"INSERT INTO DB.DBA.SYS_SPARQL_HOST (SH_HOST, SH_GRAPH_URI) VALUES ('%', '{graph}')"
        )
        self.loaded = True

    def start(self) -> None:
        if not self.alive():  # plankg over Virtuoso may have started it already
            super().start()

    def default_graph(self) -> str:
        """The engine graph holding the build's default graph, as the published record names it."""
        record = json.loads((self.dist / "manifest.json").read_text(encoding="utf-8"))
        query = (
            f"SELECT ?g WHERE {{ GRAPH <{record['base']}id/graph/published> "
            "{ ?r <http://www.w3.org/ns/sparql-service-description#defaultGraph> ?g } }"
        )
        request = urllib.request.Request(
            self.query_url(query), headers={"Accept": "application/sparql-results+json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            bindings = json.loads(response.read())["results"]["bindings"]
        return str(bindings[0]["g"]["value"])


class OursOverVirtuoso(Server):
    """``plankg serve --remote-endpoint`` over the Virtuoso peer (started and loaded first if need be)."""

    def __init__(self, engine: VirtuosoPeer, *, python: Path, source: Path, log_dir: Path) -> None:
        port = free_port()
        argv = [str(python), "-m", "server.cli", "serve", "--host", HOST, "--port", str(port)]
        argv += ["--dist", str(engine.dist), "--remote-endpoint", f"{engine.origin}/sparql"]
        log = log_dir / "ours-virtuoso.log"
        env = {"PYTHONPATH": str(source)}
        label = "plankg serve --remote-endpoint (virtuoso)"
        super().__init__("ours-virtuoso", label, argv, port, "/sparql", log, env, canned=True, cwd=source)
        self.engine = engine

    def start(self) -> None:
        if not self.engine.alive():
            self.engine.start()
        self.engine.wait_ready()
        super().start()

    def stop(self, grace: float = 10.0) -> str:
        how = super().stop(grace)
        self.engine.stop(grace)
        return how
