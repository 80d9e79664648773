"""Every canned query, with its defaults and with its examples, served over a built store.

``plankg serve`` runs over the store and dumps of a build (``--store``, ``--dist``; e.g. the
1,000-plan build of ``bench/corpus.py``) with the server's default settings, its time limit and
per-client budgets included, but one: the answer cache is off (``PLANKG_ANSWER_CACHE_BYTES=0``), so
that every request is evaluated rather than the first alone. One client asks each query in turn,
``--runs`` times with its parameters' defaults and as many with their examples (a query without
parameters once each way), and the median latency is recorded with the status; a query refused
(429, 503 …) is a result, not an error. The 1-minute load average before and after is recorded
with the command. Results: ``bench/results/{date}-{name}.{md,json}``.

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
    request = urllib.request.Request(url, headers={"Accept": accept})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return status, body, (time.perf_counter() - started) * 1000


def time_queries(origin: str, runs: int) -> list[dict[str, Any]]:
    """For each canned query, with defaults then with examples: the median ms of ``runs``, the
    statuses seen and the rows of the last answer."""
    status, body, _ = get(origin + "/queries", "application/json")
    assert status == 200, body[:500]
    listing = json.loads(body)["queries"]
    out = []
    for item in listing:
        params = item["parameters"]
        for kind in ("defaults", "examples"):
            values = {p["name"]: p["default"] for p in params if p["default"] is not None}
            if kind == "examples":
                if not params:
                    continue
                values = {p["name"]: p["example"] for p in params if p["example"] is not None}
            url = f"{origin}/queries/{item['name']}"
            if values:
                url += "?" + urllib.parse.urlencode(values)
            times, statuses, rows = [], [], None
            for _ in range(runs):
                status, body, ms = get(url)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--dist", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--name", default="canned", help="results: bench/results/{date}-{name}.*")
    parser.add_argument("--note", default="", help="what was served (e.g. the build's size)")
    args = parser.parse_args(argv)
    # A path of this machine is not recorded: an absolute one is shown from its build directory on.
    given = argv if argv is not None else sys.argv[1:]
    shown = [f"BUILD/{Path(a).parent.name}/{Path(a).name}" if a.startswith("/") else a for a in given]
    command = "python -m bench.canned " + shlex.join(shown)
    with tempfile.TemporaryDirectory(prefix="plankg-bench-canned-") as work:
        server = serve(args.store.resolve(), args.dist.resolve(), Path(work) / "server.log")
        server.start()
        try:
            server.wait_ready()
            load_before = os.getloadavg()
            started = time.perf_counter()
            results = time_queries(server.origin, args.runs)
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
        "evaluated. One client, each query in turn, median and slowest of the runs (ms).",
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
