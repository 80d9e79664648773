"""Old and new canned queries over one built store: the same answers, and what each costs.

For every canned query (or those named), with its defaults, its examples and values the store holds
(``bench.canned.STORE_LOOKUPS``), the answer is computed three ways in one process, one after the
other: the old query text (``--old DIR``, e.g. ``git archive main queries | tar -x -C DIR``) with the
values bound after planning (pyoxigraph's ``substitutions``, as the embedded store did), the old text
with the values written into it (``with_bindings``, as the store does now), and the new text so. The
rows of the three must be the same (in the same order, or the same rows where ORDER BY ties); the
process CPU time of each is recorded (less disturbed by other work than wall time). Results:
``bench/results/{date}-{name}.md``; the exit status is 1 if any answer differs.

    python -m bench.canned_answers --store DIR/var/store --old OLD/queries --name canned-answers-1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from bench.canned import _LOOKUP_PREFIXES, RESULTS, STORE_LOOKUPS, shown_command
from server.protocol.canned import CannedQuery, load_queries, read_query
from server.stores.oxigraph import _ox_term
from server.stores.querytext import with_bindings

BASE = "http://127.0.0.1:8000/"


def store_values(store: ox.Store) -> dict[str, str]:
    found = {}
    for name, lookup in STORE_LOOKUPS.items():
        result = store.query(_LOOKUP_PREFIXES.format(base=BASE) + lookup.format(id=BASE + "id/"))
        assert isinstance(result, ox.QuerySolutions)
        for row in result:
            found[name] = str(row["v"].value)
            break
    return found


def rows(result: Any) -> list[tuple[str | None, ...]]:
    return [tuple(None if t is None else str(t) for t in row) for row in result]


def timed(run: Any) -> tuple[list[tuple[str | None, ...]], float]:
    started = time.process_time()
    answer = rows(run())
    return answer, (time.process_time() - started) * 1000


def compare(store: ox.Store, old: CannedQuery, new: CannedQuery, given: dict[str, str]) -> dict[str, Any]:
    bindings = new.bind({k: [v] for k, v in given.items()}, BASE)
    substitutions = {ox.Variable(k): _ox_term(v) for k, v in bindings.items()} or None
    before, old_ms = timed(lambda: store.query(old.sparql, base_iri=BASE, substitutions=substitutions))
    middle, old_text_ms = timed(lambda: store.query(with_bindings(old.sparql, bindings), base_iri=BASE))
    after, new_ms = timed(lambda: store.query(with_bindings(new.sparql, bindings), base_iri=BASE))
    if before == middle == after:
        verdict = "same"
    elif sorted(before) == sorted(middle) == sorted(after):
        verdict = "same rows (ties of ORDER BY in another order)"
    else:
        verdict = f"DIFFERENT ({len(before)}, {len(middle)}, {len(after)} rows)"
    return {"rows": len(after), "old": old_ms, "old_text": old_text_ms, "new": new_ms, "answers": verdict}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old", type=Path, required=True, help="the old version's queries/ directory")
    parser.add_argument("--name", default="canned-answers")
    parser.add_argument("queries", nargs="*", help="query names (all when none)")
    args = parser.parse_args(argv)
    command = shown_command("bench.canned_answers", argv if argv is not None else sys.argv[1:])
    store = ox.Store.read_only(str(args.store))
    found = store_values(store)
    load_before = os.getloadavg()
    lines = []
    different = 0
    for new in load_queries():
        if args.queries and new.name not in args.queries:
            continue
        old = read_query(args.old / f"{new.name}.rq")
        for kind in ("defaults", "examples", "store"):
            given = {p.name: p.default for p in new.params if p.default is not None}
            if kind != "defaults":
                if not new.params:
                    continue
                given = {p.name: p.example for p in new.params if p.example is not None}
            if kind == "store":
                given.update({p.name: found[p.name] for p in new.params if p.name in found})
            r = compare(store, old, new, {k: v for k, v in given.items() if v is not None})
            different += r["answers"].startswith("DIFFERENT")
            cpu = " | ".join(f"{r[k]:.0f}" for k in ("old", "old_text", "new"))
            line = f"| {new.name} | {kind} | {r['rows']} | {cpu} | {r['answers']} |"
            print(line, flush=True)
            lines.append(line)
    load_after = os.getloadavg()
    day = dt.date.today().isoformat()
    loads = " before, ".join(", ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after))
    text = [
        f"# Canned queries, old and new, over one store ({day})",
        "",
        f"`{command}`",
        "",
        "CPU ms of one evaluation in one process, one after the other: the old text with the values",
        "bound after planning (substitutions), the old text with the values in it, the new text so.",
        f"Store values: {found}.",
        f"Load average (1, 5, 15 min): {loads} after (2 cores shared with other work).",
        f"Answers different: {different}.",
        "",
        "| query | with | rows | old, substitutions | old, values in text | new, values in text | answers |",
        "|---|---|---:|---:|---:|---:|---|",
        *lines,
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{day}-{args.name}.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    return 1 if different else 0


if __name__ == "__main__":
    raise SystemExit(main())
