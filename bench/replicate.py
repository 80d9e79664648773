"""A large plan-shaped graph for the bench: a built store's plans copied under distinct plan IRIs.

``python -m bench.run --replicate N`` serves the seed's graph copied N times: in copy k (k ≥ 1), every
IRI that names a plan of the build — the plan, its graph, its pillars, tasks, targets, spans and
quotes, all of which carry the plan's slug — takes the slug ``<slug>-copy-<k>``, and blank nodes are
renamed per copy; the shared vocabulary, places and catalogued organisations stay shared, as they are
between the plans of a real corpus. Literals are copied unchanged, so every number still traces to
the seed's text. The copy is a new on-disk store beside a ``plankg-build.json`` of its own (the build
id ``<build id>x<N>``, its triple counts), which ``oxigraph serve-read-only`` and ``plankg serve`` open
alike. With N = 22 the seed's graph (9,903 default-graph triples) gives ~215k, the size of the graph
issue 10's figures came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

BUILD_INFO = "plankg-build.json"


def _renamer(slugs: Sequence[str], copy: int) -> Any:
    suffix = f"-copy-{copy}"

    def rename(term: Any) -> Any:
        if isinstance(term, ox.NamedNode):
            value = term.value
            for slug in slugs:
                if slug in value:
                    value = value.replace(slug, slug + suffix)
            return term if value == term.value else ox.NamedNode(value)
        if isinstance(term, ox.BlankNode):
            return ox.BlankNode(f"{term.value}c{copy}")
        if isinstance(term, ox.Triple):
            return ox.Triple(rename(term.subject), rename(term.predicate), rename(term.object))
        return term  # literals and the default graph

    return rename


def _copies(source: ox.Store, slugs: Sequence[str], copies: int) -> Iterator[ox.Quad]:
    for copy in range(copies):
        if copy == 0:
            yield from source.quads_for_pattern(None, None, None, None)
            continue
        rename = _renamer(slugs, copy)
        for quad in source.quads_for_pattern(None, None, None, None):
            yield ox.Quad(
                rename(quad.subject), rename(quad.predicate), rename(quad.object), rename(quad.graph_name)
            )


def replicate(source_dir: Path, target_dir: Path, copies: int) -> dict[str, Any]:
    """Write the store at ``source_dir`` copied ``copies`` times into a new store at ``target_dir``;
    returns the new build record (also written beside it)."""
    if copies < 1:
        raise ValueError(f"at least one copy: {copies}")
    record: dict[str, Any] = json.loads((source_dir / BUILD_INFO).read_text(encoding="utf-8"))
    slugs = [str(plan["slug"]) for plan in record.get("plans", [])]
    if not slugs:
        raise ValueError(f"{source_dir / BUILD_INFO}: no plans to copy")
    source = ox.Store.read_only(str(source_dir))
    target = ox.Store(str(target_dir))
    target.bulk_extend(_copies(source, slugs, copies))
    target.flush()
    target.optimize()
    default = sum(1 for _ in target.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    quads = len(target)
    del target, source
    copied = {
        "base": record["base"],
        "build_id": f"{record['build_id']}x{copies}",
        "triples": default,
        "quads": quads,
        "replicated_from": {"build_id": record["build_id"], "triples": record["triples"], "copies": copies},
        "plans": [
            {**plan, "slug": plan["slug"] + (f"-copy-{k}" if k else "")}
            for k in range(copies)
            for plan in record.get("plans", [])
        ],
    }
    (target_dir / BUILD_INFO).write_text(json.dumps(copied, ensure_ascii=False, indent=1), encoding="utf-8")
    return copied
