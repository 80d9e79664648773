"""The benchmark harness's pure parts: wrk's summary, portable query text, row counts, ratios, tables.

Nothing here times anything or starts a server.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bench import queries as q
from bench import report, wrk
from server.protocol.results import Iri, Literal

WRK_STDOUT = """Running 2s test @ http://127.0.0.1:8000/sparql?query=ASK%7B%7D
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.90ms    5.01ms  52.00ms   80.00%
  1958 requests in 2.00s, 1.10MB read
  Non-2xx or 3xx responses: 8
Requests/sec:    978.50
Transfer/sec:    560.00KB
WRK_JSON {"requests":1958,"duration_us":2001000,"bytes":1153433,"connect_errors":0,"read_errors":1,\
"write_errors":0,"status_errors":8,"timeouts":2,"p50_us":15900,"p90_us":21000,"p99_us":33100,\
"max_us":52000,"mean_us":15900.5}
"""


def test_wrk_summary_is_read_from_the_done_hook_line() -> None:
    result = wrk.parse_output(WRK_STDOUT)
    assert (result.requests, result.status_errors, result.timeouts, result.socket_errors) == (1958, 8, 2, 1)
    assert result.p50_ms == pytest.approx(15.9) and result.p99_ms == pytest.approx(33.1)
    assert result.seconds == pytest.approx(2.001)
    # Only successful responses count as throughput; every kind of failure is counted.
    assert result.rps == pytest.approx(1950 / 2.001)
    assert result.failures == 11
    assert result.to_json()["failures"] == 11


def test_wrk_without_the_hook_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="no summary"):
        wrk.parse_output("Requests/sec: 10\n")


def test_wrk_command_uses_one_thread_the_hook_and_the_accept_header(tmp_path: Any) -> None:
    argv = wrk.command(
        "http://127.0.0.1:1/x",
        connections=16,
        seconds=2.4,
        script=tmp_path / "h.lua",
        accept="a/b",
        timeout=5,
    )
    assert argv[:6] == ["wrk", "--threads", "1", "--connections", "16", "--duration"]
    assert "2s" in argv and "Accept: a/b" in argv and argv[-1] == "http://127.0.0.1:1/x"
    assert wrk.MARK.strip() in wrk.DONE_HOOK and "percentile(99)" in wrk.DONE_HOOK


def test_parameters_become_the_terms_our_server_binds() -> None:
    base = "http://example.org/"
    assert q.parameter_term("string", 'say "hi"\\', base) == '"say \\"hi\\"\\\\"'
    assert q.parameter_term("integer", "10", base) == '"10"^^<http://www.w3.org/2001/XMLSchema#integer>'
    assert q.parameter_term("year", "2025", base) == '"2025"^^<http://www.w3.org/2001/XMLSchema#gYear>'
    assert q.parameter_term("iri", "id/task/6", base) == "<http://example.org/id/task/6>"
    with pytest.raises(ValueError):
        q.parameter_term("date", "2025-01-01", base)


def test_bindings_are_written_in_as_our_server_writes_them_for_an_engine() -> None:
    # A FILTER in a nested group (the group a canned query looks its parameter up in, a union's
    # branch) gets the term itself; a VALUES block at the start of the outer group, as the bench
    # wrote before, left it unbound there, and the lookup found nothing.
    sparql = (
        "#+ title: a { in a comment\n"
        "PREFIX x: <http://e/not#>\n"
        "SELECT ?v ?w WHERE { { ?t x:label ?l . FILTER (STR(?l) = ?v) } UNION { ?t x:p ?w } }\n"
    )
    text = q.portable_text(sparql, "http://b/", {"v": Literal("1"), "w": Iri("http://i")})
    assert text.startswith("BASE <http://b/>\n#+ title")
    assert 'FILTER (STR(?l) = "1")' in text and "?t x:p <http://i>" in text
    assert 'VALUES (?v ?w) { ("1" <http://i>) }' in text  # the projection gives them
    assert q.portable_text("ASK {}", "http://b/") == "BASE <http://b/>\nASK {}"


def test_canned_queries_are_bound_with_their_defaults() -> None:
    listing = {
        "queries": [
            {
                "name": "by-year",
                "url": "http://127.0.0.1:8000/queries/by-year",
                "sparql": "SELECT ?year WHERE { ?x <p> ?year }",
                "parameters": [{"name": "year", "type": "year", "default": "2025", "example": "2023"}],
            },
            {"name": "all", "url": "/queries/all", "sparql": "SELECT ?x { ?x ?p ?o }", "parameters": []},
        ]
    }
    first, second = q.canned_queries(listing, "http://127.0.0.1:8000/")
    assert first.canned_path == "/queries/by-year" and first.canned
    assert 'VALUES (?year) { ("2025"^^<http://www.w3.org/2001/XMLSchema#gYear>) }' in first.sparql
    assert second.sparql == "BASE <http://127.0.0.1:8000/>\nSELECT ?x { ?x ?p ?o }"


def test_bench_cpu_takes_a_raw_query_or_a_canned_one_bound_with_its_defaults() -> None:
    from bench.cpu import pick_query

    raw = {"simple-lookup": q.BenchQuery("simple-lookup", "ASK {}")}
    asked: list[bool] = []

    def listing() -> dict[str, Any]:
        asked.append(True)
        return {
            "queries": [
                {
                    "name": "by-year",
                    "url": "/queries/by-year",
                    "sparql": "SELECT ?year WHERE { ?x <p> ?year }",
                    "parameters": [{"name": "year", "type": "year", "default": "2025", "example": "2023"}],
                }
            ]
        }

    assert pick_query("simple-lookup", raw, listing, "http://b/") is raw["simple-lookup"]
    assert asked == []  # the listing is asked for only for a canned query
    by_year = pick_query("by-year", raw, listing, "http://b/")
    assert by_year.canned and '"2025"^^<http://www.w3.org/2001/XMLSchema#gYear>' in by_year.sparql
    with pytest.raises(SystemExit, match="neither a raw query"):
        pick_query("nope", raw, listing, "http://b/")


def test_row_count_of_sparql_json() -> None:
    assert q.row_count(b'{"head":{"vars":["x"]},"results":{"bindings":[{},{}]}}') == 2
    assert q.row_count(b'{"head":{},"boolean":false}') == 1
    for bad in (b"<sparql/>", b"[]", b'{"head":{}}'):
        with pytest.raises(ValueError):
            q.row_count(bad)


def test_ratio_and_geometric_mean() -> None:
    assert report.ratio(50, 100) == 0.5
    assert report.ratio(50, 0) is None and report.ratio(None, 3) is None
    assert report.geomean([1, 4]) == pytest.approx(2.0)
    assert report.geomean([]) is None


def _run(server: str, route: str, query: str, rps: float | None, **extra: Any) -> dict[str, Any]:
    run = {"server": server, "route": route, "query": query, "concurrency": 16, "rps": rps}
    if rps is not None:
        run.update(p50_ms=1.5, p99_ms=12.0, failures=0)
    return {**run, **extra}


RESULTS: dict[str, Any] = {
    "queries": {"a": {"canned": True}, "b": {"canned": True}, "raw": {"canned": False}},
    "runs": [
        _run("oxigraph", "sparql", "a", 1000.0),
        _run("ours", "canned", "a", 900.0),
        _run("ours", "sparql", "a", 450.0),
        _run("rdflib", "sparql", "a", 50.0),
        _run("oxigraph", "sparql", "b", 100.0),
        _run("ours", "canned", "b", 40.0),
        _run("rdflib", "sparql", "b", None, note="wrong answer: 3 rows, ours 4"),
        _run("ours", "sparql", "raw", 10.0, failures=3),
        _run("oxigraph", "sparql", "raw", 20.0),
    ],
    "probes": [
        {
            "server": "ours",
            "label": "plankg",
            "hostile": {"outcome": "ended after 30.1 s with 503"},
            "simple": [
                {
                    "server": "ours",
                    "concurrency": 1,
                    "rps": 300.0,
                    "p50_ms": 1.0,
                    "p99_ms": 20.0,
                    "failures": 0,
                },
                {
                    "server": "ours",
                    "concurrency": 16,
                    "rps": 200.0,
                    "p50_ms": 50,
                    "p99_ms": 150.0,
                    "failures": 0,
                },
            ],
        }
    ],
}


def test_ratio_goal_uses_the_geometric_mean_and_names_the_queries_below() -> None:
    goal = report.ratio_goal("g", {"a": 0.9, "b": 0.4, "c": None}, 0.8)
    assert goal.met is False  # sqrt(0.36) = 0.6
    assert "×0.60" in goal.detail and "below: b ×0.40" in goal.detail and "not compared: c" in goal.detail
    assert report.ratio_goal("g", {"a": None}, 0.8).met is None


def test_goals_from_results() -> None:
    goals = {g.text: g for g in report.goals(RESULTS)}
    cached = goals["canned queries, c=16: plankg (cache on, /queries) ≥ 0.8× oxigraph"]
    assert cached.met is False and "b ×0.40" in cached.detail  # a ×0.9, b ×0.4: mean 0.6
    rdflib = goals["canned queries, c=16: plankg (cache on, /queries) ≥ 10× rdflib-endpoint"]
    assert rdflib.met is True  # a: 900/50 = 18
    assert "not compared: b (rdflib: wrong answer: 3 rows, ours 4)" in rdflib.detail
    probe = goals["ours: simple-query p99 < 100 ms while a hostile query runs"]
    assert probe.met is False and "c=16: p99 150 ms" in probe.detail
    assert goals["ours-nocache: simple-query p99 < 100 ms while a hostile query runs"].met is None


def test_throughput_table_cells() -> None:
    lines = report.throughput_table(RESULTS, 16)
    assert lines[0].startswith("| query | plankg cached, /queries |")
    row_a = next(line for line in lines if line.startswith("| a (canned)"))
    assert "900/s · 1.50/12.0 ms · ×0.90" in row_a and "1000/s · 1.50/12.0 ms |" in row_a
    row_b = next(line for line in lines if line.startswith("| b (canned)"))
    assert "wrong answer: 3 rows, ours 4" in row_b
    row_raw = next(line for line in lines if line.startswith("| raw |"))
    assert row_raw.startswith("| raw |  |")  # no /queries route for a raw query
    assert "**3 failed**" in row_raw


def test_probe_table_row() -> None:
    lines = report.probe_table(RESULTS)
    assert lines[2].startswith("| plankg | ended after 30.1 s with 503 | 300/s · 1.00/20.0 ms")


def test_distinct_mode_numbers_each_request_of_a_run_apart(tmp_path: Any) -> None:
    hook = wrk.write_hook(tmp_path, distinct=True)
    text = hook.read_text(encoding="utf-8")
    assert wrk.MARK.strip() in text  # the summary hook is there too
    assert 'wrk.path .. "%0A%23" .. tag .. "-" .. counter' in text  # a comment after a line break
    argv = wrk.command(
        "http://127.0.0.1:1/x?query=ASK",
        connections=16,
        seconds=2,
        script=hook,
        accept="a/b",
        timeout=5,
        script_args=("run-7",),
    )
    assert argv[-3:] == ["http://127.0.0.1:1/x?query=ASK", "--", "run-7"]


DISTINCT: dict[str, Any] = {
    "queries": {"a": {"canned": True}, "b": {"canned": False}},
    "runs": [
        _run("oxigraph", "distinct", "a", 100.0),
        _run("ours", "distinct", "a", 150.0, p99_ms=20.0),
        _run("oxigraph", "distinct", "b", 100.0),
        _run("ours", "distinct", "b", 40.0, p99_ms=30.0, failures=2),
    ],
}


def test_distinct_goals_geometric_mean_every_query_p99_and_failures() -> None:
    goals = {g.text: g for g in report.goals(DISTINCT)}
    mean = goals["distinct queries, c=16: ours ≥ 1.0× oxigraph (geometric mean)"]
    assert mean.met is False  # a ×1.5, but b failed: not a clean run, so not met
    assert "not compared: b" in mean.detail
    every = goals["distinct queries, c=16: ours ≥ 0.5× oxigraph on every query"]
    assert every.met is False
    p99 = goals["distinct queries, c=16: ours p99 ≤ 2× oxigraph's on every query"]
    assert p99.met is True and "×1.67" in p99.detail  # a: 20 / 12
    failed = goals["distinct queries, c=16: ours: no failed request"]
    assert failed.met is False and "b (2)" in failed.detail
    table = report.distinct_p99_table(DISTINCT)
    assert any(line.startswith("| a | ×1.50 · ×1.67 |") for line in table)


def test_replicate_copies_the_plans_under_distinct_iris_and_shares_the_rest(tmp_path: Any) -> None:
    """bench.replicate: the large bench graph is the build's plans copied, each copy's plan IRIs (and
    blank nodes and plan graphs) its own, the shared vocabulary once; a build record of its own."""
    import json

    import pyoxigraph as ox

    from bench.replicate import replicate

    base = "http://example.org/"
    plan, task = f"{base}id/plan/lake-town-2031/", f"{base}id/plan/lake-town-2031/task/1"
    source = tmp_path / "store"
    store = ox.Store(str(source))
    graph = ox.NamedNode(f"{base}id/graph/plan/lake-town-2031")
    label, kind = ox.NamedNode(f"{base}def/label"), ox.NamedNode(f"{base}def/Task")
    store.add(ox.Quad(ox.NamedNode(task), label, ox.Literal("修一座湖边步道", language="zh")))
    store.add(ox.Quad(ox.NamedNode(task), ox.NamedNode(f"{base}def/partOf"), ox.NamedNode(plan)))
    store.add(ox.Quad(kind, label, ox.Literal("Task")))  # shared vocabulary
    store.add(ox.Quad(ox.BlankNode("b1"), label, ox.Literal("a note"), graph))
    store.flush()
    del store
    record = {"base": base, "build_id": "abc", "triples": 4, "plans": [{"slug": "lake-town-2031"}]}
    (source / "plankg-build.json").write_text(json.dumps(record), encoding="utf-8")

    copied = replicate(source, tmp_path / "copied", 3)
    assert copied["triples"] == 1 + 3 * 2 and copied["quads"] == 1 + 3 * 3
    assert copied["build_id"] == "abcx3"
    assert [p["slug"] for p in copied["plans"]] == [
        "lake-town-2031",
        *(f"lake-town-2031-copy-{k}" for k in (1, 2)),
    ]
    assert json.loads((tmp_path / "copied" / "plankg-build.json").read_text(encoding="utf-8")) == copied
    out = ox.Store.read_only(str(tmp_path / "copied"))
    labels = sorted(
        (q.subject.value, q.object.value)
        for q in out.quads_for_pattern(None, label, None, ox.DefaultGraph())
        if isinstance(q.subject, ox.NamedNode)
    )
    assert labels == sorted(
        [(f"{base}def/Task", "Task")]
        + [(task.replace("2031/", f"2031{s}/"), "修一座湖边步道") for s in ("", "-copy-1", "-copy-2")]
    )
    graphs = sorted(str(g.value) for g in out.named_graphs() if isinstance(g, ox.NamedNode))
    assert graphs == [graph.value, graph.value + "-copy-1", graph.value + "-copy-2"]
    assert (
        len(
            {
                q.subject.value
                for q in out.quads_for_pattern(None, None, None, None)
                if isinstance(q.subject, ox.BlankNode)
            }
        )
        == 3
    )


@pytest.mark.parametrize("name", sorted(set(q.raw_queries("http://x/")) - {q.HOSTILE}))
def test_every_raw_bench_query_finds_rows_in_the_seed_graph(
    name: str, plan_client: Any, built_plan: Any
) -> None:
    """A benchmark query that matches nothing measures only the request path (simple-lookup named a
    task IRI of the one-plan layout for a while): each finds rows in the seed's graph."""
    text = q.raw_queries(built_plan.settings.base)[name].sparql
    accept = {"Accept": "application/sparql-results+json"}
    r = plan_client.get("/sparql", params={"query": text}, headers=accept)
    assert r.status_code == 200, r.text
    assert q.row_count(r.content) > 0


class _FakeServer:
    """What Bench.time reads of a server; nothing listens."""

    key = "ours"

    def alive(self) -> bool:
        return True

    def query_url(self, sparql: str) -> str:
        return "http://127.0.0.1:1/sparql?query=" + sparql


def _answers(count: int, seconds: float) -> wrk.WrkResult:
    return wrk.WrkResult(count, seconds, 0, 0, 0, 1.0, 2.0, 3.0, 4.0, 1.5)


def _bench(tmp_path: Any, *argv: str) -> Any:
    from bench import run as bench_run

    args = bench_run._parser().parse_args(["--duration", "4", *argv])
    args.base = "http://127.0.0.1:8000/"
    bench = bench_run.Bench(args, tmp_path)
    bench.check_seconds[("ours", "distinct", q.SIMPLE)] = 0.01
    return bench


def test_a_cell_with_too_few_answers_is_run_again_twice_as_long_up_to_the_cap(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cell right after a heavy query's drain held a handful of answers and read as ×0.00: such a
    cell is run again, after the server settles, twice as long each time, until it holds
    --min-answers or reaches --max-duration; the last run is the cell's, with its length."""
    lengths: list[float] = []
    settled: list[str] = []

    def fake_run(url: str, *, seconds: float, timeout: float, **_: Any) -> wrk.WrkResult:
        lengths.append(seconds)
        assert timeout > seconds  # a slow answer in flight at the end is not a failure
        return _answers(3 if seconds < 16 else 40, seconds)

    monkeypatch.setattr(wrk, "run", fake_run)
    bench = _bench(tmp_path, "--min-answers", "20", "--max-duration", "30")

    def settle(server: _FakeServer) -> float:
        settled.append(server.key)
        return 0.0

    monkeypatch.setattr(bench, "settle", settle)
    query = bench.simple
    bench.time(query, _FakeServer(), "distinct", 16)
    assert lengths == [4.0, 8.0, 16.0]
    assert settled == ["ours", "ours", "ours"]  # before each rerun, and after the cell
    (run,) = bench.runs
    assert run["requests"] == 40 and run["run_seconds"] == 16.0 and run["rps"] == 2.5

    # Never past the cap: a query that answers too slowly keeps its few answers, said as such.
    lengths.clear()
    bench.runs.clear()

    def answers_2(url: str, *, seconds: float, **_: Any) -> wrk.WrkResult:
        lengths.append(seconds)
        return _answers(2, seconds)

    monkeypatch.setattr(wrk, "run", answers_2)
    bench.time(query, _FakeServer(), "distinct", 16)
    assert lengths == [4.0, 8.0, 16.0, 30.0]
    assert bench.runs[0]["requests"] == 2 and bench.runs[0]["run_seconds"] == 30.0


def test_a_cell_with_enough_answers_runs_once(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lengths: list[float] = []

    def answers_500(url: str, *, seconds: float, **_: Any) -> wrk.WrkResult:
        lengths.append(seconds)
        return _answers(500, seconds)

    monkeypatch.setattr(wrk, "run", answers_500)
    bench = _bench(tmp_path)
    monkeypatch.setattr(bench, "settle", lambda server: 0.0)
    bench.time(bench.simple, _FakeServer(), "distinct", 16)
    assert lengths == [4.0]
    assert "run_seconds" not in bench.runs[0]


def test_settling_waits_for_several_quick_answers_in_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """One quick ASK {} said a server of several processes was idle while another of its processes
    still worked through a heavy query's abandoned requests, and ours answered that ASK {} from its
    answer cache: the next cell read ×0.00."""
    from bench import run as bench_run

    clock = [0.0]
    answers = iter([0.1, 2.0, 0.1, 0.1, 0.1, 3.0, 0.1, 0.1, 0.1, 0.1, 9.9])

    asked: list[str] = []

    def fake_fetch(url: str, timeout: float) -> tuple[int, bytes]:
        clock[0] += next(answers)
        asked.append(url)
        return 200, b"{}"

    monkeypatch.setattr(bench_run, "fetch", fake_fetch)

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    fake = SimpleNamespace(monotonic=lambda: clock[0], sleep=sleep, time_ns=lambda: int(clock[0] * 1e9))
    monkeypatch.setattr("bench.run.time", fake)
    bench = object.__new__(bench_run.Bench)
    waited = bench.settle(_FakeServer())  # type: ignore[arg-type]
    # Four quick answers in a row only after the two slow ones (with a pause after each).
    assert waited == pytest.approx(0.1 + 2.0 + 0.2 + 0.3 + 3.0 + 0.2 + 0.4)
    # Each a text of its own: a repeated ASK {} was answered by our answer cache, busy or not.
    assert len(set(asked)) == len(asked) == 10
    assert all(url.startswith("http://127.0.0.1:1/sparql?query=ASK {}") for url in asked)


def test_bench_worker_cpu_binds_a_canned_query_with_its_defaults_as_the_server_lists_it() -> None:
    """bench.worker_cpu asks the store the text bench.cpu sends for a canned query: the query as the
    server loads it, its default (else example) written in, and the build's base declared."""
    from bench.worker_cpu import _text
    from server.protocol.results import Iri

    base = "http://127.0.0.1:8000/"
    text = _text("source-passage", base)
    assert text.startswith(f"BASE <{base}>\n")
    node = Iri(base + "id/plan/jinan-green-low-carbon-2023-2025/task/6")
    assert f"?mention oa:hasBody <{node.value}> ;" in text
    with pytest.raises(SystemExit, match="not a canned query"):
        _text("nope", base)
