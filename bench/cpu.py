"""CPU time per request of a server, from ``/proc``: robust to a machine other work keeps busy.

``python -m bench.cpu --store S --dist D --query simple-lookup`` starts ``plankg serve`` (one server
process unless ``--processes``; the bench's lifted per-client limits; ``--cache-bytes``, 0 by default:
no answer cache) and, as a peer, ``oxigraph serve-read-only`` over the same store; then drives each
with wrk in the distinct-query mode (every request a new text; ``--repeat``: the same text each time,
which with ``--cache-bytes`` measures the answer-cache path) at ``--concurrency`` for ``--duration``
seconds, ``--runs`` times in turn, and prints per run the successful requests per second, p99, and the
CPU seconds (user + system, from ``/proc/<pid>/stat``, children that exited included) the server's
processes spent per answered request: the server processes, and separately their query workers.
Load average is printed before and after. Only Linux.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench import wrk
from bench.queries import BenchQuery, canned_queries, raw_queries
from bench.run import fetch
from bench.servers import LIFTED_LIMITS, Server, free_port, oxigraph

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _cpu(pid: int) -> float:
    """utime + stime of ``pid`` and of its waited-for children (cutime + cstime), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / TICK


def _tree(root: int) -> dict[int, float]:
    """CPU seconds of every process below ``root`` (the root included)."""
    out: dict[int, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        out[pid] = _cpu(pid)
        todo += _children(pid) if Path(f"/proc/{pid}").exists() else []
    return out


def _is_worker(pid: int) -> bool:
    try:
        return b"worker_entry" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _ours(key: str, source: Path, args: argparse.Namespace, work: Path) -> Server:
    """``plankg serve`` from the code in ``source``, with the bench's lifted per-client limits."""
    port = free_port()
    argv = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--store", str(args.store), "--dist", str(args.dist), "--processes", str(args.processes)]
    env = {
        "PYTHONPATH": str(source),
        **LIFTED_LIMITS,
        "PLANKG_ANSWER_CACHE_BYTES": str(args.cache_bytes),
        **dict(item.split("=", 1) for item in args.env),
    }
    return Server(
        key, f"plankg serve ({source})", argv, port, "/sparql", work / f"{key}.log", env, cwd=source
    )


def pick_query(
    name: str, raw: Mapping[str, BenchQuery], listing: Callable[[], Mapping[str, Any]], base: str
) -> BenchQuery:
    """The raw query ``name``, else the canned query ``name`` of ``listing()`` (our server's
    ``GET /queries`` JSON, asked for only then), bound with its defaults as bench.run binds it."""
    if name in raw:
        return raw[name]
    for query in canned_queries(listing(), base):
        if query.name == name:
            return query
    raise SystemExit(f"{name!r} is neither a raw query of bench/queries nor a canned query")


def _listing(server: Server) -> Mapping[str, Any]:
    status, body = fetch(server.origin + "/queries?format=json", 30)
    if status != 200:
        raise SystemExit(f"GET /queries answered {status}")
    listing: Mapping[str, Any] = json.loads(body)
    return listing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--dist", type=Path, required=True)
    parser.add_argument(
        "--query",
        default="simple-lookup",
        help="a raw query of bench/queries, or a canned query (bound with its defaults as bench.run does)",
    )
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--cache-bytes", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--repeat",
        action="store_true",
        help="every request the same text (with --cache-bytes: the answer-cache path), not distinct ones",
    )
    parser.add_argument("--no-oxigraph", action="store_true")
    parser.add_argument(
        "--before",
        type=Path,
        help="also serve the code of this directory (e.g. `git archive main`), as ours-before",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a setting for plankg serve"
    )
    args = parser.parse_args(argv)
    record = json.loads((args.store / "plankg-build.json").read_text(encoding="utf-8"))
    raw = raw_queries(record["base"])
    with tempfile.TemporaryDirectory(prefix="plankg-bench-cpu-") as tmp:
        work = Path(tmp)
        hook = wrk.write_hook(work, distinct=not args.repeat)
        servers = [_ours("ours", REPO, args, work)]
        if args.before is not None:
            servers.insert(0, _ours("ours-before", args.before, args, work))
        if not args.no_oxigraph:
            exe = REPO / ".venv-bench" / "bin" / "oxigraph"
            servers.append(oxigraph(executable=exe, store=args.store, log_dir=work))
        print(f"load average before: {os.getloadavg()}", flush=True)
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready()
            ours = servers[-1 if args.no_oxigraph else -2]
            query = pick_query(args.query, raw, lambda: _listing(ours), record["base"])
            for run in range(args.runs):
                for server in servers:
                    url = server.query_url(query.sparql)
                    assert server.process is not None
                    pid = server.process.pid
                    before = _tree(pid)
                    result = wrk.run(
                        url,
                        connections=args.concurrency,
                        seconds=args.duration,
                        script=hook,
                        accept="application/sparql-results+json",
                        script_args=(f"cpu{run}",),
                    )
                    time.sleep(0.3)
                    after = _tree(pid)
                    spent = {p: after[p] - before.get(p, 0.0) for p in after}
                    workers = sum(s for p, s in spent.items() if _is_worker(p))
                    total = sum(spent.values())
                    n = max(result.ok_requests, 1)
                    print(
                        f"run {run + 1} {server.key}: {result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms, "
                        f"{result.failures} failed; CPU per request: server processes "
                        f"{(total - workers) / n * 1000:.2f} ms, query workers {workers / n * 1000:.2f} ms",
                        flush=True,
                    )
        finally:
            for server in servers:
                server.stop()
        print(f"load average after: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
