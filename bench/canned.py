"""Every canned query, with its defaults and with its examples, served over a built store.

``plankg serve`` runs over the store and dumps of a build (``--store``, ``--dist``; e.g. the
1,000-plan build of ``bench/corpus.py``) with the server's default settings, its time limit and
per-client budgets included, but one: the answer cache is off (``PLANKG_ANSWER_CACHE_BYTES=0``), so
that every request is evaluated rather than the first alone. One client asks each query in turn,
``--runs`` times with its parameters' defaults and as many with their examples (a query without
parameters once each way), with ``--store-values`` as many again with values the served store holds
(``STORE_LOOKUPS``: the examples mostly name the Jinan plan, which a generated corpus does not hold,
and find nothing), and the median latency is recorded with the status and the rows; a query refused
(429, 503 …) is a result, not an error, but a 429 of the per-client budget is waited out (its
Retry-After) and asked again, so that one slow query does not turn the next ones into refusals.
The 1-minute load average before and after is recorded with the command. Results:
``bench/results/{date}-{name}.{md,json}``.

    python -m bench.canned --store DIR/var/store --dist DIR/dist --name canned-1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.servers import Server, free_port

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


def serve(store: Path, dist: Path, log: Path) -> Server:
    """``plankg serve`` over ``store`` and ``dist`` on a free port, defaults but the answer cache."""
    port = free_port()
    argv = [sys.executable, "-m", "server.cli", "serve", "--store", str(store), "--dist", str(dist)]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    env = {"PLANKG_ANSWER_CACHE_BYTES": "0"}
    return Server("ours", "plankg", argv, port, "/sparql", log, env=env, cwd=REPO)


def get(url: str, accept: str = "application/sparql-results+json") -> tuple[int, bytes, float]:
    """Status, body and milliseconds of a GET."""
    status, body, ms, _ = _get(url, accept)
    return status, body, ms


def _get(url: str, accept: str) -> tuple[int, bytes, float, str | None]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    started = time.perf_counter()
    retry_after = None
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status, retry_after = exc.read(), exc.code, exc.headers.get("Retry-After")
    return status, body, (time.perf_counter() - started) * 1000, retry_after


def get_within_budget(url: str, seen: list[int]) -> tuple[int, bytes, float]:
    """A GET that, refused for the client's query-seconds budget (429), waits the Retry-After the
    server names and asks again (at most 3 times): the refusal is recorded in ``seen``, the time is
    that of the answer, so that one slow query does not turn the next ones' timings into refusals."""
    for _ in range(3):
        status, body, ms, retry_after = _get(url, "application/sparql-results+json")
        if status != 429 or retry_after is None:
            break
        seen.append(status)
        time.sleep(float(retry_after))
    return status, body, ms


# A value the served corpus holds for each parameter name (``--store-values``): the first of a one-row
# lookup in a fixed order, so that a query's timing measures work that finds rows (most examples
# name the Jinan plan and its organisations, which a generated corpus does not hold). {id} is the
# corpus's id/ namespace, {pk} its vocabulary.
_PLAN_OF_PILLARS = (
    "SELECT ?v WHERE {{ ?x a pk:Pillar ; eli:is_part_of ?p . "
    "BIND (STRAFTER(STR(?p), '{id}plan/') AS ?v) }} ORDER BY {order}(?v) LIMIT 1"
)
STORE_LOOKUPS: dict[str, str] = {
    # the first plan with pillars (the Jinan genre: every per-plan query has rows), and the last one
    "plan": _PLAN_OF_PILLARS.replace("{order}", ""),
    "left": _PLAN_OF_PILLARS.replace("{order}", ""),
    "right": _PLAN_OF_PILLARS.replace("{order}", "DESC"),
    "document": "SELECT ?v WHERE {{ ?c a pk:Citation ; oa:hasBody ?d . ?d eli:title ?v }} "
    "ORDER BY ?v LIMIT 1",
    "node": "SELECT ?v WHERE {{ ?v a pk:Target }} ORDER BY ?v LIMIT 1",
    "task": "SELECT ?v WHERE {{ ?p pk:inTask ?t . ?t pk:numberValue ?v }} ORDER BY ?v LIMIT 1",
    "pillar": "SELECT ?v WHERE {{ ?x a pk:Pillar ; pk:numberValue ?v }} ORDER BY DESC(?v) LIMIT 1",
    "text": "SELECT (SUBSTR(STR(?title), 1, 4) AS ?v) WHERE {{ ?t a pk:Task ; eli:title ?title }} "
    "ORDER BY ?t LIMIT 1",
    "q": "SELECT (SUBSTR(STR(?title), 1, 4) AS ?v) WHERE {{ ?t a pk:Task ; eli:title ?title }} "
    "ORDER BY ?t LIMIT 1",
    "place": "SELECT ?v WHERE {{ ?t pk:mentions ?x . ?x a pk:Place ; skos:prefLabel ?v . "
    "FILTER (LANG(?v) = 'zh') }} ORDER BY ?v LIMIT 1",
    "org": "SELECT ?v WHERE {{ ?t a pk:Task ; pk:mentions ?x . ?x a org:Organization ; skos:prefLabel ?v . "
    "FILTER (LANG(?v) = 'zh') }} ORDER BY ?v LIMIT 1",
}
_LOOKUP_PREFIXES = (
    "PREFIX pk: <{base}def/>\nPREFIX eli: <http://data.europa.eu/eli/ontology#>\n"
    "PREFIX oa: <http://www.w3.org/ns/oa#>\nPREFIX org: <http://www.w3.org/ns/org#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
)


def store_values(origin: str) -> dict[str, str]:
    """Each parameter name's value from the served store (STORE_LOOKUPS); a name whose lookup finds
    nothing is left out (the query then keeps its example)."""
    status, body, _ = get(origin + "/queries/plans")
    assert status == 200, body[:500]
    first = json.loads(body)["results"]["bindings"][0]["plan"]["value"]
    base = first[: first.index("id/plan/")]
    values = {}
    for name, lookup in STORE_LOOKUPS.items():
        text = _LOOKUP_PREFIXES.format(base=base) + lookup.format(id=base + "id/")
        status, body, _ = get(origin + "/sparql?" + urllib.parse.urlencode({"query": text}))
        assert status == 200, body[:500]
        found = json.loads(body)["results"]["bindings"]
        if found:
            values[name] = found[0]["v"]["value"]
    return values


def time_queries(origin: str, runs: int, found: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """For each canned query, with defaults then with examples (then, given ``found``, with each
    parameter's value from the store, else its example): the median ms of ``runs``, the statuses seen
    and the rows of the last answer."""
    status, body, _ = get(origin + "/queries", "application/json")
    assert status == 200, body[:500]
    listing = json.loads(body)["queries"]
    out = []
    kinds = ("defaults", "examples") if found is None else ("defaults", "examples", "store")
    for item in listing:
        params = item["parameters"]
        for kind in kinds:
            values = {p["name"]: p["default"] for p in params if p["default"] is not None}
            if kind != "defaults":
                if not params:
                    continue
                values = {p["name"]: p["example"] for p in params if p["example"] is not None}
            if kind == "store":
                values.update({p["name"]: found[p["name"]] for p in params if found and p["name"] in found})
            url = f"{origin}/queries/{item['name']}"
            if values:
                url += "?" + urllib.parse.urlencode(values)
            times: list[float] = []
            statuses: list[int] = []
            rows = None
            for _ in range(runs):
                status, body, ms = get_within_budget(url, statuses)
                times.append(ms)
                statuses.append(status)
                if status == 200:
                    rows = len(json.loads(body)["results"]["bindings"])
            out.append(
                {
                    "query": item["name"],
                    "with": kind,
                    "parameters": values,
                    "median_ms": round(statistics.median(times), 1),
                    "max_ms": round(max(times), 1),
                    "statuses": sorted(set(statuses)),
                    "rows": rows,
                }
            )
            print(json.dumps(out[-1], ensure_ascii=False), flush=True)
    return out


def shown_command(module: str, argv: list[str]) -> str:
    """The command as recorded: a path of this machine is not, an absolute one is shown from its
    build directory on (``BUILD/var/store``)."""
    shown = [f"BUILD/{Path(a).parent.name}/{Path(a).name}" if a.startswith("/") else a for a in argv]
    return f"python -m {module} " + shlex.join(shown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--dist", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--name", default="canned", help="results: bench/results/{date}-{name}.*")
    parser.add_argument("--note", default="", help="what was served (e.g. the build's size)")
    parser.add_argument(
        "--store-values",
        action="store_true",
        help="also run each query with parameter values the served store holds (STORE_LOOKUPS)",
    )
    args = parser.parse_args(argv)
    command = shown_command("bench.canned", argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="plankg-bench-canned-") as work:
        server = serve(args.store.resolve(), args.dist.resolve(), Path(work) / "server.log")
        server.start()
        try:
            server.wait_ready()
            found = store_values(server.origin) if args.store_values else None
            load_before = os.getloadavg()
            started = time.perf_counter()
            results = time_queries(server.origin, args.runs, found)
            seconds = time.perf_counter() - started
            load_after = os.getloadavg()
        finally:
            server.stop()
    write_results(results, args.name, command, args.note, load_before, load_after, seconds)
    return 0


def write_results(
    results: list[dict[str, Any]],
    name: str,
    command: str,
    note: str,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    seconds: float,
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = dt.date.today().isoformat()
    data = {
        "date": day,
        "command": command,
        "served": note,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "seconds": round(seconds, 1),
        "results": results,
    }
    (RESULTS / f"{day}-{name}.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    refused = [r for r in results if r["statuses"] != [200]]
    lines = [
        f"# Canned queries served ({day})",
        "",
        f"`{command}`",
        "",
        f"Served: {note or 'see the command'}. `plankg serve` with its default settings (time limit,",
        "per-client budgets, workers, processes) except the answer cache, off so that every request is",
        "evaluated. One client, each query in turn, median and slowest of the runs (ms); `store`:",
        "each parameter's value taken from the served store (`--store-values`), shown in the .json.",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; after: "
        f"{', '.join(f'{x:.2f}' for x in load_after)} (2 cores shared with other work);"
        f" {seconds:.0f} s in all.",
        "",
        f"Refused or failed: {', '.join(r['query'] + ' (' + r['with'] + ')' for r in refused) or 'none'}.",
        "",
        "| query | with | median ms | max ms | status | rows |",
        "|---|---|---:|---:|---|---:|",
    ]
    for r in results:
        status = ",".join(str(s) for s in r["statuses"])
        lines.append(
            f"| {r['query']} | {r['with']} | {r['median_ms']} | {r['max_ms']} | {status} | {r['rows']} |"
        )
    (RESULTS / f"{day}-{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
