"""CPU per query of the store's worker path alone, without HTTP: two code trees side by side.

``python -m bench.worker_cpu --store S --before DIR --query source-passage`` opens, for this tree and
for the tree in ``--before`` (e.g. ``git archive main``) in turn, an ``OxigraphStore`` with one query
worker over the store in a fresh interpreter, and asks it ``--queries`` distinct texts one after the
other (the canned query bound with its defaults as bench.run binds it, each ending in a different
comment, so the engine parses every one; SPARQL JSON, the server's row limit) after a warm-up. It
prints per round and per tree the CPU (user + system, ``/proc``) that the worker process and the
calling process spent per query, and as a reference what pyoxigraph alone spends in the calling
process on the same texts (``Store.query`` and its engine-written JSON). The trees alternate within
each round, so that both meet the same load. Only Linux.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.queries import parameter_value, portable_text

REPO = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")

# Run in a fresh interpreter with the tree under test first on the path.
_PROBE = r"""
import json, os, sys, time
from pathlib import Path
import pyoxigraph as ox
from server.protocol import formats as fmts
from server.stores.interface import FormatChoice
from server.stores.oxigraph import OxigraphStore

store_dir, text = sys.argv[1], sys.argv[2]
count, warm, max_rows = (int(a) for a in sys.argv[3:6])
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick

store = OxigraphStore(Path(store_dir), workers=1)
choice = FormatChoice(results=fmts.SPARQL_JSON, graph=None)
try:
    (worker,) = store.worker_pids()
    for i in range(warm):
        store.query(f"{text}\n#warm-{i}", formats=choice, max_rows=max_rows)
    texts = [f"{text}\n#q-{i}" for i in range(count)]
    w0, s0 = cpu(worker), time.process_time()
    for t in texts:
        store.query(t, formats=choice, max_rows=max_rows)
    w1, s1 = cpu(worker), time.process_time()
finally:
    store.close()
engine = ox.Store.read_only(store_dir)
e0 = time.process_time()
for t in texts:
    engine.query(t).serialize(format=ox.QueryResultsFormat.JSON)
e1 = time.process_time()
print(json.dumps({"worker_ms": (w1 - w0) / count * 1000, "caller_ms": (s1 - s0) / count * 1000,
                  "pyoxigraph_alone_ms": (e1 - e0) / count * 1000}))
"""


def _text(name: str, base: str) -> str:
    """The canned query ``name`` bound with its parameters' defaults (examples where no default)."""
    from server.protocol.canned import load_queries

    for query in load_queries():
        if query.name == name:
            bindings = {
                p.name: parameter_value(
                    p.type.value, p.default if p.default is not None else (p.example or ""), base
                )
                for p in query.params
                if p.default is not None or p.example is not None
            }
            return portable_text(query.sparql, base, bindings)
    raise SystemExit(f"{name!r} is not a canned query")


def measure(tree: Path, store: Path, text: str, count: int, warm: int, max_rows: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [sys.executable, "-c", _PROBE, str(store), text, str(count), str(warm), str(max_rows)]
    out = subprocess.run(argv, env=env, cwd=tree, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_cpu", description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument(
        "--before", type=Path, required=True, help="the other code tree (e.g. `git archive main`)"
    )
    parser.add_argument("--query", default="source-passage", help="a canned query, bound with its defaults")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=100_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    record = json.loads((args.store / "plankg-build.json").read_text(encoding="utf-8"))
    text = _text(args.query, record["base"])
    runs: list[dict[str, object]] = []
    print(f"load average before: {os.getloadavg()}", flush=True)
    for round_ in range(args.rounds):
        for key, tree in (("before", args.before), ("this", REPO)):
            figures = measure(tree, args.store, text, args.queries, args.warm, args.max_rows)
            load = os.getloadavg()[0]
            runs.append({"round": round_ + 1, "tree": key, "load": load, **figures})
            print(
                f"round {round_ + 1} {key}: worker {figures['worker_ms']:.3f} ms, caller "
                f"{figures['caller_ms']:.3f} ms per query; pyoxigraph alone "
                f"{figures['pyoxigraph_alone_ms']:.3f} ms (load {load:.1f})",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}", flush=True)
    if args.json is not None:
        args.json.write_text(
            json.dumps({"query": args.query, "runs": runs}, indent=1) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
