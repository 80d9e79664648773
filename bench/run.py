"""``make bench``: plankg's server beside ``oxigraph serve-read-only`` and rdflib-endpoint, in one run.

Steps: export HEAD and build the graph into a temporary directory (or use ``--store``/``--dist``);
start every server on a free loopback port; check each query's answer on each server (status 200 and
our row count) and warm it up; time the queries one by one with wrk, on every server back to back, at
each concurrency level; probe each server in turn with a hostile query; stop them all. The report
(Markdown) and the raw results (JSON) go to ``bench/results/YYYY-MM-DD.{md,json}`` (UTC date; a rerun
the same day overwrites them) and the report is printed. The peers come from a separate virtualenv
(``.venv-bench``, see ``bench/requirements.txt``); ``wrk`` from Debian. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import queries as q
from bench import report, servers, wrk
from bench.queries import BenchQuery
from bench.servers import Server

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
PEER_VENV = REPO / ".venv-bench"
ACCEPT = "application/sparql-results+json"
CONCURRENCY = (1, 16)
# plankg over Virtuoso before Virtuoso itself: the peer without a time limit is stopped after its probe.
SERVER_KEYS = ("ours", "ours-nocache", "oxigraph", "rdflib", "ours-virtuoso", "virtuoso")
# Driven in the distinct-query mode too (every request a new query text): rdflib-endpoint is left out,
# it has no cache to defeat and its slow queries would double the run.
DISTINCT_KEYS = ("ours", "ours-nocache", "oxigraph")
OUR_QUERY_TIMEOUT = 30.0  # plankg serve's default time limit per query, as deployed
CHECK_TIMEOUT = 30.0
SETTLE_TIMEOUT = 120.0
NOTES = (
    "On `/sparql` and on the peers, a canned query is the same text with `BASE` declared and its "
    "parameters (their defaults) bound by `VALUES` at the start of the outer group; `/queries/{name}` "
    "binds them with Oxigraph's pre-binding of variables.",
    "rdflib-endpoint serves the N-Quads dump (the same quads as the store) and queries the union of its "
    "graphs; plankg and oxigraph query the default graph.",
    "req/s counts successful responses only; requests still in flight when wrk stops are not counted. "
    "After each run the harness waits until the server answers again (`drain_seconds` in the JSON).",
    "Oxigraph's server runs with its defaults: no query time limit (`--timeout-s` is off).",
)
# Not run when (one answer's seconds × connections) is longer: the queue it leaves would take as long.
SLOW_QUEUE_SECONDS = 20.0
# The server is idle after a run when ASK {} is answered this quickly this many times in a row.
IDLE_ANSWER = 0.5
IDLE_IN_A_ROW = 4
# A cell with fewer successful answers is run again, twice as long, up to --max-duration.
MIN_ANSWERS = 20


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fetch(url: str, timeout: float) -> tuple[int, bytes]:
    """Status and body of a GET asking for SPARQL JSON (an HTTP error status is returned, not raised)."""
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


def _short(body: bytes, limit: int = 120) -> str:
    text = body.decode("utf-8", "replace").replace("\n", " ").strip()
    return text if len(text) <= limit else text[:limit] + "…"


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.hook = wrk.write_hook(work)
        self.distinct_hook = wrk.write_hook(work, distinct=True)
        self.runs: list[dict[str, Any]] = []
        self.probes: list[dict[str, Any]] = []
        self.notes: list[str] = list(NOTES)
        self.expected: dict[str, int] = {}  # query name → row count on our server
        self.raw = q.raw_queries(args.base)
        self.hostile, self.simple = self.raw.pop(q.HOSTILE), self.raw[q.SIMPLE]
        self.queries: list[BenchQuery] = []  # from the first server's /queries, then the raw ones
        self.reference = ""  # the key of the server whose answers are expected (ours)
        self.check_seconds: dict[tuple[str, str, str], float] = {}  # (server, route, query) → one answer

    def url(self, server: Server, query: BenchQuery, route: str) -> str:
        if route == "canned":
            assert query.canned_path is not None
            return server.origin + query.canned_path
        return server.query_url(query.sparql)

    def check(self, server: Server, query: BenchQuery, route: str) -> str | None:
        """None when the server answers ``query`` correctly (and is warmed up); else why not."""
        url = self.url(server, query, route)
        started = time.monotonic()
        try:
            status, body = fetch(url, CHECK_TIMEOUT)
        except (OSError, urllib.error.URLError) as err:
            self.settle(server)  # it may still be evaluating the query
            return f"no answer within {CHECK_TIMEOUT:.0f} s ({err})"
        seconds = time.monotonic() - started
        self.check_seconds[(server.key, route, query.name)] = round(seconds, 3)
        if status != 200:
            return f"error {status}: {_short(body)}"
        try:
            rows = q.row_count(body)
        except ValueError as err:
            return str(err)
        if server.key == self.reference:  # our server's answer is the one the others must give
            self.expected[query.name] = rows
        expected = self.expected.get(query.name)
        if expected is None:
            return f"{rows} rows, but our server gave no answer to compare with"
        if rows != expected:
            return f"wrong answer: {rows} rows, ours {expected}"
        if seconds < 2:  # warm up (fills our answer cache, if it is on); skip for slow queries
            for _ in range(3):
                fetch(url, CHECK_TIMEOUT)
        return None

    def routes(self, server: Server, query: BenchQuery) -> tuple[str, ...]:
        routes: tuple[str, ...] = ("canned", "sparql") if server.canned and query.canned else ("sparql",)
        if self.args.distinct_only:
            return ("distinct",) if server.key in DISTINCT_KEYS else ()
        if self.args.distinct and server.key in DISTINCT_KEYS:
            routes += ("distinct",)  # /sparql, each request's text made new by a comment
        return routes

    def measure(self, running: Sequence[Server]) -> None:
        """Check every query on every server, then time them query by query, the servers side by side
        (so that the ratios compare measurements taken seconds apart, whatever else the machine does)."""
        ok: list[tuple[BenchQuery, Server, str]] = []
        for query in self.queries:
            for server in running:
                for route in self.routes(server, query):
                    problem = self.check(server, query, route)
                    if problem is None:
                        ok.append((query, server, route))
                        continue
                    log(f"  {server.key:12} {query.name:34} {route:6} not timed: {problem}")
                    for concurrency in self.args.concurrency:
                        self.runs.append(
                            {
                                "server": server.key,
                                "route": route,
                                "query": query.name,
                                "concurrency": concurrency,
                                "rps": None,
                                "note": problem,
                            }
                        )
        for query in self.queries:
            for concurrency in self.args.concurrency:
                for server, route in [(s, r) for q_, s, r in ok if q_ is query]:
                    self.time(query, server, route, concurrency)

    def time(self, query: BenchQuery, server: Server, route: str, concurrency: int) -> None:
        one_answer = self.check_seconds[(server.key, route, query.name)]
        base = {"server": server.key, "route": route, "query": query.name, "concurrency": concurrency}
        label = f"  {server.key:12} {query.name:34} {route:6} c={concurrency:<2}"
        if not server.alive():
            self.runs.append({**base, "rps": None, "note": "the server had exited"})
            log(f"{label} not run: the server had exited")
            return
        if one_answer * concurrency > SLOW_QUEUE_SECONDS:
            # A run would leave a queue longer than the bench can wait for: say so instead.
            note = f"not run: one answer takes {one_answer:.1f} s"
            self.runs.append({**base, "rps": None, "note": note})
            log(f"{label} {note}")
            return
        load = round(os.getloadavg()[0], 1)
        distinct = route == "distinct"
        seconds = self.args.duration
        cap = max(seconds, self.args.max_duration)
        while True:
            result = wrk.run(
                self.url(server, query, route),
                connections=concurrency,
                seconds=seconds,
                script=self.distinct_hook if distinct else self.hook,
                accept=ACCEPT,
                # Longer than the run: an answer still on its way when wrk stops is not counted, as in a
                # 4 s run (wrk's own timeout counted it as a failure in the longer runs of a slow query).
                timeout=max(5.0, seconds + 1.0),
                # A tag no other run uses: the texts of this run are new to the server's answer cache.
                script_args=(f"{server.key}-{query.name}-c{concurrency}-{time.time_ns()}",)
                if distinct
                else (),
            )
            if result.ok_requests >= self.args.min_answers or seconds >= cap:
                break
            # Too few answers for a ratio that means anything (a cell right after a heavy query's
            # drain, or one long answer per connection): settle, then again, twice as long.
            again = min(2 * seconds, cap)
            log(f"{label} {result.ok_requests} answers in {seconds:g} s: again, for {again:g} s")
            self.settle(server)
            seconds = min(2 * seconds, cap)
        run: dict[str, Any] = {**base, **result.to_json(), "load1": load}
        if seconds != self.args.duration:
            run["run_seconds"] = seconds
        if result.ok_requests == 0:
            run["rps"] = None
            run["note"] = f"no answer in {seconds:g} s (one answer took {one_answer:.1f} s)"
        elif result.failures:
            run["note"] = f"{result.failures} failed"
        drained = self.settle(server)
        if drained > 0.5:
            run["drain_seconds"] = round(drained, 1)
        self.runs.append(run)
        log(
            f"{label} {result.rps:8.1f}/s p50 {result.p50_ms:7.2f} ms p99 {result.p99_ms:7.2f} ms"
            + (f"  {result.failures} FAILED" if result.failures else "")
            + (f"  (then {drained:.1f} s to finish queued requests)" if drained > 0.5 else "")
        )

    def settle(self, server: Server) -> float:
        """Seconds until the server is idle again after a run: it may still work through the requests
        wrk left in flight when it stopped (rdflib-endpoint evaluates one at a time; ours replaces the
        query workers of abandoned requests, in each of its server processes). Idle: ``ASK {}`` answered
        with 200 within :data:`IDLE_ANSWER` seconds :data:`IDLE_IN_A_ROW` times in a row, each on a
        connection of its own (so that the kernel spreads them over the server processes of one port)
        and each a new text (so that no answer cache answers it)."""
        started = time.monotonic()
        quick = 0
        while quick < IDLE_IN_A_ROW and time.monotonic() - started < SETTLE_TIMEOUT and server.alive():
            asked = time.monotonic()
            # A text of its own each time: a repeated ASK {} came from our answer cache at once, busy or not.
            ask = f"ASK {{}}\n# settle {time.time_ns()}"
            try:
                status, _ = fetch(server.query_url(ask), SETTLE_TIMEOUT)
            except (OSError, urllib.error.URLError):
                status = 0
            if status == 200 and time.monotonic() - asked <= IDLE_ANSWER:
                quick += 1
                continue
            quick = 0
            time.sleep(0.2)
        return time.monotonic() - started

    def probe(self, server: Server, wait: float | None) -> None:
        """Simple queries at c=1 and c=16 while the hostile query runs; when (if) it is stopped.

        ``wait``: how long after its start to wait for the hostile query's answer (None: not at all).
        """
        outcome: dict[str, Any] = {}
        url = server.query_url(self.hostile.sparql)

        def fire() -> None:
            started = time.monotonic()
            try:
                status, body = fetch(url, (wait or 0) + 60)
                outcome.update(status=status, body=_short(body, 200))
            except (OSError, urllib.error.URLError) as err:
                outcome.update(status=None, body=str(err))
            outcome["seconds"] = round(time.monotonic() - started, 2)

        started = time.monotonic()
        thread = threading.Thread(target=fire, name="hostile-query", daemon=True)
        thread.start()
        time.sleep(1.0)  # let it get going
        simple_runs = []
        for concurrency in CONCURRENCY:
            try:
                result = wrk.run(
                    server.query_url(self.simple.sparql),
                    connections=concurrency,
                    seconds=self.args.probe_seconds,
                    script=self.hook,
                    accept=ACCEPT,
                    timeout=2.0,
                )
            except RuntimeError as err:
                simple_runs.append({"concurrency": concurrency, "rps": None, "note": str(err)})
                continue
            run = {"server": server.key, "route": "sparql", "concurrency": concurrency, **result.to_json()}
            if result.ok_requests == 0:
                run["rps"] = None
                run["note"] = f"no answer in {self.args.probe_seconds:g} s"
            simple_runs.append(run)
            log(
                f"  probe c={concurrency:<2} {result.rps:8.1f}/s p50 {result.p50_ms:7.2f} ms "
                f"p99 {result.p99_ms:7.2f} ms, {result.failures} failed"
            )
        if wait is not None:
            thread.join(timeout=max(wait - (time.monotonic() - started), 0))
        elapsed = time.monotonic() - started
        if outcome:
            text = f"ended after {outcome['seconds']:.1f} s with {outcome['status']}"
            if outcome["status"] == 503:
                text += " (stopped at its time limit)"
        else:
            limit = "" if wait is None else f" (waited {wait:.0f} s)"
            text = f"still running after {elapsed:.0f} s{limit}: no time limit; the server was stopped"
        log(f"  hostile query: {text}")
        self.probes.append(
            {
                "server": server.key,
                "label": server.label,
                "hostile": {"outcome": text, **outcome},
                "simple": simple_runs,
            }
        )

    def all(self, running: Sequence[Server], waits: Mapping[str, float | None]) -> dict[str, str]:
        """Start every server, measure them side by side, probe them one at a time, stop them;
        returns how each was stopped."""
        stopped: dict[str, str] = {}
        try:
            for server in running:
                log(f"{server.label}: {' '.join(server.argv)}")
                server.start()
            for server in running:
                server.wait_ready()
            self.reference = running[0].key
            self.load_queries(running[0])
            self.measure(running)
            for server in running if not self.args.distinct_only else ():
                log(f"probe {server.label}")
                self.probe(server, waits[server.key])
                if waits[server.key] is None:  # its hostile query may still run: stop it now
                    stopped[server.key] = server.stop()
        finally:
            for server in running:
                stopped.setdefault(server.key, server.stop())
        return stopped

    def load_queries(self, server: Server) -> None:
        status, body = fetch(server.origin + "/queries?format=json", 30)
        if status != 200:
            raise RuntimeError(f"GET /queries answered {status}: {_short(body)}")
        queries = q.canned_queries(json.loads(body), self.args.base) + list(self.raw.values())
        if self.args.queries:
            wanted = set(self.args.queries.split(","))
            queries = [query for query in queries if query.name in wanted]
        self.queries = queries


def _version(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError as err:
        return f"unknown ({err})"
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[0] if done.returncode == 0 else "unknown"


def _machine() -> str:
    model = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f", {mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = ""
    return f"{os.cpu_count()} CPUs ({model}){memory}, {platform.system()} {platform.release()}"


def _commit() -> str:
    return _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per query and concurrency (2)")
    parser.add_argument(
        "--min-answers",
        type=int,
        default=MIN_ANSWERS,
        help=f"a cell with fewer successful answers is run again twice as long ({MIN_ANSWERS})",
    )
    parser.add_argument(
        "--max-duration",
        type=float,
        default=16.0,
        help="the longest a cell is run to reach --min-answers, in seconds (16)",
    )
    parser.add_argument("--probe-seconds", type=float, default=4.0, help="seconds per probe level (4)")
    parser.add_argument(
        "--store", type=Path, help="a built store (default: build one into a temporary directory)"
    )
    parser.add_argument("--dist", type=Path, help="its dumps (with --store)")
    parser.add_argument("--servers", default=",".join(SERVER_KEYS), help="which servers, comma-separated")
    parser.add_argument(
        "--working-tree",
        action="store_true",
        help="measure the code in the working tree (default: a clean export of HEAD)",
    )
    parser.add_argument("--queries", help="only these queries, comma-separated (for trying the harness)")
    parser.add_argument(
        "--no-distinct",
        dest="distinct",
        action="store_false",
        help="skip the distinct-query mode (every request a new query text, so no answer cache helps)",
    )
    parser.add_argument(
        "--concurrency",
        type=lambda text: tuple(int(c) for c in text.split(",")),
        default=CONCURRENCY,
        help="connection counts of the timed runs, comma-separated (1,16)",
    )
    parser.add_argument(
        "--distinct-only",
        action="store_true",
        help="only the distinct-query mode: no canned or repeated-text runs, no hostile-query probe",
    )
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        metavar="N",
        help="serve the graph's plans copied N times under distinct plan IRIs (bench/replicate.py; "
        "27: ~214k triples); with the servers ours, ours-nocache and oxigraph only",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where to write the results")
    parser.add_argument("--no-write", action="store_true", help="print the report, write no files")
    parser.add_argument(
        "--peer-venv", type=Path, default=PEER_VENV, help="virtualenv with oxigraph, rdflib-endpoint"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    oxigraph_cli = args.peer_venv / "bin" / "oxigraph"
    rdflib_cli = args.peer_venv / "bin" / "rdflib-endpoint"
    missing = [str(p) for p in (oxigraph_cli, rdflib_cli) if not p.exists()]
    if shutil.which("wrk") is None:
        missing.append("wrk")
    if missing:
        log(f"missing: {', '.join(missing)}; `make bench` installs them (bench/README.md)")
        return 2
    if (args.store is None) != (args.dist is None):
        log("--store and --dist go together")
        return 2
    keys = [k for k in args.servers.split(",") if k]
    unknown = set(keys) - set(SERVER_KEYS)
    if unknown or not keys or keys[0] not in ("ours", "ours-nocache"):
        log(f"--servers: some of {', '.join(SERVER_KEYS)}, ours or ours-nocache first (it gives the answers)")
        return 2
    if args.replicate != 1 and (args.replicate < 1 or set(keys) - set(DISTINCT_KEYS)):
        log(f"--replicate N (N ≥ 1): the copied store is served to {', '.join(DISTINCT_KEYS)} only")
        return 2

    work = Path(tempfile.mkdtemp(prefix="plankg-bench-"))
    logs = work / "logs"
    logs.mkdir()
    try:
        commit = _commit()
        if args.working_tree:
            source, code = REPO, f"the working tree at {commit} (uncommitted changes included)"
        else:
            source, code = snapshot(work / "src", commit), f"commit {commit} (a clean export of HEAD)"
        log(f"plankg code: {code}")
        store, dist = args.store, args.dist
        if store is None:
            store, dist = work / "store", work / "dist"
            log(f"building the graph into {work}")
            build = [
                sys.executable,
                "-m",
                "server.cli",
                "build",
                "--store",
                str(store),
                "--dist",
                str(dist),
                "-q",
            ]
            subprocess.run(build, cwd=source, env={**os.environ, "PYTHONPATH": str(source)}, check=True)
        if args.replicate > 1:
            from bench.replicate import replicate

            copied = replicate(store, work / "store-replicated", args.replicate)
            store = work / "store-replicated"
            log(f"the graph's plans copied {args.replicate} times: {copied['triples']:,} triples")
        record = json.loads((store / "plankg-build.json").read_text(encoding="utf-8"))
        args.base = record["base"]
        bench = Bench(args, work)
        if args.replicate > 1:
            bench.notes.append(
                f"The graph: the build's plans copied {args.replicate} times under distinct plan IRIs "
                "(bench/replicate.py); the canned queries' default parameters name the first copy."
            )
        plan: dict[str, Server] = {
            "ours": servers.ours(
                "ours",
                "plankg serve (answer cache on, as deployed)",
                python=Path(sys.executable),
                source=source,
                store=store,
                dist=dist,
                log_dir=logs,
                cache_bytes=None,
            ),
            "ours-nocache": servers.ours(
                "ours-nocache",
                "plankg serve with PLANKG_ANSWER_CACHE_BYTES=0",
                python=Path(sys.executable),
                source=source,
                store=store,
                dist=dist,
                log_dir=logs,
                cache_bytes=0,
            ),
            "oxigraph": servers.oxigraph(executable=oxigraph_cli, store=store, log_dir=logs),
            # The N-Quads dump: the same quads as the store (the Turtle dump lacks the SHACL report
            # graph that the consistency-report query reads); rdflib-endpoint queries their union.
            "rdflib": servers.rdflib_endpoint(executable=rdflib_cli, data=dist / "plankg.nq", log_dir=logs),
        }
        engine = servers.VirtuosoPeer(
            directory=work / "virtuoso", dist=dist, python=Path(sys.executable), source=source, log_dir=logs
        )
        plan["virtuoso"] = engine
        plan["ours-virtuoso"] = servers.OursOverVirtuoso(
            engine, python=Path(sys.executable), source=source, log_dir=logs
        )
        # Our server stops the hostile query at its time limit: wait for that; the peers have none.
        waits = {k: OUR_QUERY_TIMEOUT + 5 if plan[k].canned else None for k in keys}
        load_before = os.getloadavg()
        stopped = bench.all([plan[k] for k in keys], waits)
        load_after = os.getloadavg()
        peer_python = args.peer_venv / "bin" / "python"
        meta = {
            "date": started_at.date().isoformat(),
            "started": started_at.isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - started, 1),
            "commit": commit,
            "code": code,
            "machine": _machine(),
            "build_id": record["build_id"],
            "triples": record["triples"],
            "base": record["base"],
            "duration": args.duration,
            "probe_seconds": args.probe_seconds,
            "concurrency": list(args.concurrency),
            "hostile": q.HOSTILE,
            "simple": q.SIMPLE,
            "servers": {plan[k].key: plan[k].label for k in keys},
            "stopped": stopped,
            "load_average": {
                "before": [round(x, 2) for x in load_before],
                "after": [round(x, 2) for x in load_after],
            },
            "versions": {
                "python": platform.python_version(),
                "pyoxigraph": _version(
                    [sys.executable, "-c", "import pyoxigraph; print(pyoxigraph.__version__)"]
                ),
                "uvicorn": _version([sys.executable, "-c", "import uvicorn; print(uvicorn.__version__)"]),
                "oxigraph": _version([str(oxigraph_cli), "--version"]),
                "rdflib-endpoint": _version(
                    [
                        str(peer_python),
                        "-c",
                        "import importlib.metadata as m; print(m.version('rdflib-endpoint'))",
                    ]
                ),
                "rdflib (peer)": _version(
                    [str(peer_python), "-c", "import rdflib; print(rdflib.__version__)"]
                ),
                "wrk": _version(["wrk", "-v"]),
                "virtuoso-opensource": _version(["dpkg-query", "-W", "-f=${Version}", "virtuoso-opensource"]),
            },
        }
        results: dict[str, Any] = {
            "meta": meta,
            "queries": {
                query.name: {
                    "canned": query.canned,
                    "rows": bench.expected.get(query.name),
                    "sparql": query.sparql,
                }
                for query in bench.queries
            },
            "runs": bench.runs,
            "probes": bench.probes,
            "notes": bench.notes,
        }
        goal_list = report.goals(results)
        results["goals"] = [g.to_json() for g in goal_list]
        text = report.markdown(results, goal_list)
        print(text)
        if not args.no_write:
            args.results.mkdir(parents=True, exist_ok=True)
            stem = args.results / meta["date"]
            stem.with_suffix(".md").write_text(text, encoding="utf-8")
            stem.with_suffix(".json").write_text(
                json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            log(f"wrote {stem}.md and {stem}.json in {meta['seconds']:.0f} s")
        return 0
    finally:
        kept = Path(tempfile.gettempdir()) / f"{work.name}-logs"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.move(logs, kept)
        log(f"server logs: {kept}")
        shutil.rmtree(work, ignore_errors=True)


def snapshot(target: Path, commit: str) -> Path:
    """A clean copy of the committed code (``git archive``), so that edits in progress in the working
    tree are not what is measured."""
    target.mkdir(parents=True)
    archive = target.with_suffix(".tar")
    subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), commit], check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()
    return target


if __name__ == "__main__":
    sys.exit(main())
