"""The store's own needs: the peak resident memory of loading a build's quads into an Oxigraph store,
compacting it and reading every quad once, and of nothing else (issue 8 point 5: the build's peak
must not grow with the corpus beyond this).

For a built ``dist/`` it starts a fresh process that imports what the build imports (the same
libraries' memory), bulk-loads the corpus's N-Quads dump (``dist/plankg.nq``) the way the build does
(``mapping.build._load``: the same batches), then the dataset description (``dist/void.ttl``, into the
description graph, in the build's description batches), flushes and compacts the store, and reads
every quad once (``quads_for_pattern`` over all graphs). The process's ``VmHWM`` is read after the
imports, after the load, after the compaction and after the reading; the last is the store's own
needs. The store holds what the build's store holds (the quad count says so).

    python -m bench.store_needs --kept DIR --sizes 10 100 300   # a corpus kept by bench.corpus --keep
    python -m bench.store_needs --dist DIR/out-10/dist

``bench.corpus`` runs it after every cold build and reports the build's peak next to it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _hwm_mib() -> float:
    from mapping import memory

    peak = memory.peak_mib()
    assert peak is not None, "VmHWM is not readable here (Linux's /proc/self/status)"
    return peak


def probe(dist: Path, directory: Path) -> dict[str, object]:
    """In this process: load ``dist``'s quads into a new store in ``directory``, compact it, read every
    quad; the high-water marks (MiB) after each step and the quads held."""
    import pyoxigraph as ox

    import mapping.build as build  # the build's imports: its libraries' memory is in its peak too
    from mapping import changes
    from mapping.layout import DESCRIPTION_FILE
    from mapping.vocab import DEFAULT_BASE, Vocab

    figures: dict[str, object] = {"imports_mib": _hwm_mib()}
    store = ox.Store(str(directory))
    given = build._load(store, changes.stream_nquads(dist / "plankg.nq"))
    graph = ox.NamedNode(build.description_graph(Vocab(_base(dist) or DEFAULT_BASE)))
    described = (
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for t in ox.parse(path=str(dist / DESCRIPTION_FILE), format=ox.RdfFormat.TURTLE)
    )
    given += build._load(store, described, build._DESCRIPTION_BATCH)
    figures["loaded_mib"] = _hwm_mib()
    store.flush()
    store.optimize()
    figures["compacted_mib"] = _hwm_mib()
    read = sum(1 for _ in store.quads_for_pattern(None, None, None, None))
    figures["read_mib"] = _hwm_mib()
    figures["quads"] = given
    figures["quads_read"] = read
    figures["store_needs_mib"] = figures["read_mib"]
    del store
    return figures


def _base(dist: Path) -> str | None:
    """The base IRI of the build in ``dist`` (its manifest's), for the description graph's name."""
    try:
        manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base = manifest.get("base")
    return base if isinstance(base, str) else None


def store_needs(dist: Path) -> dict[str, object]:
    """The store's own needs for the build in ``dist``, measured in a fresh process (its store in a
    temporary directory beside ``dist``, removed after)."""
    with tempfile.TemporaryDirectory(prefix="store-needs-", dir=dist.parent) as directory:
        done = subprocess.run(
            [sys.executable, "-m", "bench.store_needs", "--dist", str(dist), "--store", directory],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(answer, dict)
    return answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kept", type=Path, help="a directory of bench.corpus --keep (out-N/dist)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--dist", type=Path, help="one build's dist/ directory")
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)  # the fresh process's own store
    args = parser.parse_args(argv)
    if args.dist and args.store:  # the fresh process
        print(json.dumps(probe(args.dist, args.store)), flush=True)
        return 0
    if args.dist:
        print(json.dumps(store_needs(args.dist)), flush=True)
        return 0
    if not args.kept:
        parser.error("--kept DIR or --dist DIR")
    for size in args.sizes:
        figures = store_needs(args.kept / f"out-{size}" / "dist")
        print(json.dumps({"plans": size, **figures}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
