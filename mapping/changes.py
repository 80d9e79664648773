"""The change set between two consecutive builds: triples added and removed per graph, and a summary.

Every build writes three files into ``dist/`` (listed in its manifest and ``SHA256SUMS``):

* ``changes.added.nq`` and ``changes.removed.nq`` — the quads of the current build that the previous
  one did not have, and those it had that the current one lacks, in N-Quads, canonical order. The
  graph of each quad says where it changed: the default graph, the validation report's graph, and
  (once every plan has its own named graph) the plan's graph, so a change set is per plan by
  construction;
* ``changes.json`` — the previous and current build ids, the counts per graph (with, per graph, the
  entities that changed in it: per plan once plans have their graphs), and what changed in words a
  reader uses: which plans, divisions (pillars, tasks), targets, indicators, organisations,
  places and projects were added, removed or changed. An entity is compared by its IRI and by its own
  triples (those whose subject it is): present only now = added, only before = removed, in both with
  different triples = changed. For a reader, ``labels`` gives each listed entity's name (its Chinese
  label, name or title) and ``changed_properties`` the properties whose values changed in each
  changed entity.

The very first build has an empty change set "from nothing" (``previous`` null, ``first: true``): a
diff against nothing would list the whole graph, which is what the dumps already are.

Nothing here reads a clock: the same two builds give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from mapping.dumps import DumpFile, canonical_order, sort_key
from mapping.layout import ADDED_FILE, CHANGES_FILE, REMOVED_FILE
from mapping.vocab import Vocab

CHANGE_FILES = (CHANGES_FILE, ADDED_FILE, REMOVED_FILE)
DEFAULT_GRAPH = "default"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# The manifest's format name for these files: not a dump format, so never a void:dataDump.
CHANGES_FORMAT = "change-set"
FIRST_BUILD_NOTE = "the first build: an empty change set from nothing (the dumps hold the whole graph)"


def kinds(vocab: Vocab) -> dict[str, str]:
    """The classes whose instances the summary names, to the kind it files them under."""
    pk = str(vocab.pk)
    return {
        pk + "Plan": "plans",
        pk + "Pillar": "divisions",
        pk + "Task": "divisions",
        pk + "Division": "divisions",
        pk + "Target": "targets",
        pk + "Indicator": "indicators",
        pk + "Institution": "organisations",
        "http://www.w3.org/ns/org#Organization": "organisations",
        pk + "Place": "places",
        pk + "Project": "projects",
    }


KIND_ORDER = ("plans", "divisions", "targets", "indicators", "organisations", "places", "projects")


def read_nquads(path: Path) -> list[ox.Quad]:
    """The quads of an N-Quads file, gzipped (``.gz``) or not."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return list(ox.parse(data, format=ox.RdfFormat.N_QUADS))


def stream_nquads(path: Path) -> Iterator[ox.Quad]:
    """The quads of an N-Quads file, gzipped (``.gz``) or not, as they are parsed."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            yield from ox.parse(cast(IO[bytes], f), format=ox.RdfFormat.N_QUADS)
    else:
        yield from ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)


def _subject_key(quad: ox.Quad) -> str:
    return quad.subject.value if isinstance(quad.subject, ox.NamedNode) else str(quad.subject)


def _changed_subjects(old: Iterable[ox.Quad], new: Iterable[ox.Quad]) -> set[str] | None:
    """The subjects of the quads in one of two dumps and not the other, walking both in step (each in
    canonical order); None when one of them is not in canonical order."""
    found: set[str] = set()
    end = object()
    a, b = iter(old), iter(new)
    x, y = next(a, end), next(b, end)
    last_x = last_y = None
    while x is not end or y is not end:
        kx = sort_key(x) if isinstance(x, ox.Quad) else None
        ky = sort_key(y) if isinstance(y, ox.Quad) else None
        if (kx is not None and last_x is not None and kx <= last_x) or (
            ky is not None and last_y is not None and ky <= last_y
        ):
            return None
        if ky is None or (kx is not None and kx < ky):
            assert isinstance(x, ox.Quad)
            found.add(_subject_key(x))
            last_x, x = kx, next(a, end)
        elif kx is None or ky < kx:
            assert isinstance(y, ox.Quad)
            found.add(_subject_key(y))
            last_y, y = ky, next(b, end)
        else:
            last_x, last_y = kx, ky
            x, y = next(a, end), next(b, end)
    return found


def touched_quads(old: Path, new: Path) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """From two N-Quads dumps, the quads (old, new) of the subjects whose quads differ: all that
    ``write_change_set`` looks at (the change set of the whole dumps is the change set of these), with
    memory bounded by the change, not the corpus. Dumps not in canonical order are read whole."""
    touched = _changed_subjects(stream_nquads(old), stream_nquads(new))
    if touched is None:
        return read_nquads(old), read_nquads(new)
    return (
        [q for q in stream_nquads(old) if _subject_key(q) in touched],
        [q for q in stream_nquads(new) if _subject_key(q) in touched],
    )


def graph_label(quad: ox.Quad) -> str:
    return DEFAULT_GRAPH if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name.value)


def _subjects(quads: Iterable[ox.Quad]) -> dict[str, set[ox.Quad]]:
    by: dict[str, set[ox.Quad]] = defaultdict(set)
    for q in quads:
        if isinstance(q.subject, ox.NamedNode):
            by[q.subject.value].add(q)
    return by


def _typed(quads: Iterable[ox.Quad], classes: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for q in quads:
        if q.predicate.value == RDF_TYPE and isinstance(q.object, ox.NamedNode):
            kind = classes.get(q.object.value)
            if kind is not None and isinstance(q.subject, ox.NamedNode):
                found.setdefault(q.subject.value, kind)
    return found


def summary(
    old: Sequence[ox.Quad],
    new: Sequence[ox.Quad],
    added: Sequence[ox.Quad],
    removed: Sequence[ox.Quad],
    vocab: Vocab,
    *,
    triples: bool = False,
) -> dict[str, dict[str, list[str]]]:
    """Per kind, the IRIs of the entities added, removed and changed (sorted).

    With ``triples`` an entity is compared by its triples, whatever graphs hold them: an organisation
    that a new plan's graph describes too, with the same triples, has not changed."""
    classes = kinds(vocab)
    touched = {q.subject.value for q in (*added, *removed) if isinstance(q.subject, ox.NamedNode)}

    def of_touched(quads: Iterable[ox.Quad]) -> Iterator[ox.Quad]:
        # Only the touched subjects are looked up below: index those, not the whole corpus twice.
        for q in quads:
            if isinstance(q.subject, ox.NamedNode) and q.subject.value in touched:
                yield ox.Quad(q.subject, q.predicate, q.object) if triples else q

    typed = {**_typed(of_touched(old), classes), **_typed(of_touched(new), classes)}
    before, after = _subjects(of_touched(old)), _subjects(of_touched(new))
    out: dict[str, dict[str, list[str]]] = {
        k: {"added": [], "removed": [], "changed": []} for k in KIND_ORDER
    }
    for iri in sorted(touched):
        kind = typed.get(iri)
        if kind is None:
            continue
        if iri not in before:
            out[kind]["added"].append(iri)
        elif iri not in after:
            out[kind]["removed"].append(iri)
        elif before[iri] != after[iri]:
            out[kind]["changed"].append(iri)
    return out


# The name a reader knows an entity by, best first: its Chinese label, name or title, then any label.
LABELS = (
    ("http://www.w3.org/2000/01/rdf-schema#label", "zh"),
    ("http://www.w3.org/2004/02/skos/core#prefLabel", "zh"),
    ("http://data.europa.eu/eli/ontology#title", "zh"),
    ("http://www.w3.org/2000/01/rdf-schema#label", None),
    ("http://www.w3.org/2004/02/skos/core#prefLabel", None),
)


Pair = tuple[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]  # a subject's (predicate, object)


def _label(pairs: Iterable[Pair]) -> str | None:
    found: dict[tuple[str, str | None], str] = {}
    for predicate, o in pairs:
        if isinstance(o, ox.Literal):
            for key in ((predicate, o.language), (predicate, None)):
                if key in LABELS:
                    found[key] = min(found.get(key, o.value), o.value)
    return next((found[key] for key in LABELS if key in found), None)


def in_words(
    old: Sequence[ox.Quad], new: Sequence[ox.Quad], entities: dict[str, dict[str, list[str]]]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """For the summary's reader: each listed entity's label (as it is now; a removed one's as it
    was), and for each changed one the properties whose values changed (their IRIs, sorted)."""
    listed = {iri for by in entities.values() for iris in by.values() for iri in iris}
    changed = {iri for by in entities.values() for iri in by["changed"]}

    def own(quads: Iterable[ox.Quad]) -> dict[str, set[Pair]]:
        by: dict[str, set[Pair]] = defaultdict(set)
        for q in quads:
            if isinstance(q.subject, ox.NamedNode) and q.subject.value in listed:
                by[q.subject.value].add((q.predicate.value, q.object))
        return by

    before, after = own(old), own(new)
    labels = {}
    for iri in sorted(listed):
        label = _label(after.get(iri) or before.get(iri) or ())
        if label is not None:
            labels[iri] = label
    properties = {
        iri: sorted({p for p, _ in before.get(iri, set()) ^ after.get(iri, set())}) for iri in sorted(changed)
    }
    return labels, properties


def diff(old: Iterable[ox.Quad], new: Iterable[ox.Quad]) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """(added, removed), each in canonical order."""
    before, after = set(old), set(new)
    return canonical_order(after - before), canonical_order(before - after)


def _grouped(quads: Iterable[ox.Quad]) -> dict[str, list[ox.Quad]]:
    groups: dict[str, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        groups[graph_label(q)].append(q)
    return groups


def by_graph(
    added: Sequence[ox.Quad], removed: Sequence[ox.Quad]
) -> dict[str, tuple[list[ox.Quad], list[ox.Quad]]]:
    """Per graph that changed (``default`` or the named graph's IRI): its added and removed quads."""
    plus, minus = _grouped(added), _grouped(removed)
    return {g: (plus.get(g, []), minus.get(g, [])) for g in sorted(set(plus) | set(minus))}


def _file(directory: Path, name: str, media_type: str, fmt: str, data: bytes) -> DumpFile:
    (directory / name).write_bytes(data)
    return DumpFile(name, fmt, media_type, False, len(data), hashlib.sha256(data).hexdigest())


def write_change_set(
    directory: Path,
    vocab: Vocab,
    current: str,
    new: Sequence[ox.Quad],
    previous: str | None,
    old: Sequence[ox.Quad] | None,
) -> list[DumpFile]:
    """Write the change set from ``previous`` (its quads ``old``; None: the first build) to ``current``."""
    first = previous is None or old is None
    added, removed = ([], []) if first else diff(old or (), new)
    graphs: dict[str, dict[str, object]] = {}
    for graph, (plus, minus) in sorted(by_graph(added, removed).items()):
        graphs[graph] = {"added": len(plus), "removed": len(minus)}
    # The corpus's summary: entities by their triples (each plan's graph repeats the shared ones).
    entities = summary(old or (), new, added, removed, vocab, triples=True) if not first else {}
    labels, properties = in_words(old or (), new, entities)
    if not first:
        # Per named graph (per plan once every plan has its graph): what changed in that graph alone.
        olds, news = _grouped(old or ()), _grouped(new)
        for graph, (plus, minus) in by_graph(added, removed).items():
            found = summary(olds.get(graph, []), news.get(graph, []), plus, minus, vocab)
            graphs[graph]["entities"] = {
                kind: by for kind, by in found.items() if by["added"] or by["removed"] or by["changed"]
            }
    document: dict[str, object] = {
        "previous": None if first else previous,
        "current": current,
        "first": first,
        "note": FIRST_BUILD_NOTE if first else f"from build {previous} to build {current}",
        "added": len(added),
        "removed": len(removed),
        "graphs": dict(sorted(graphs.items())),
        "entities": entities,
        "counts": {kind: {change: len(iris) for change, iris in by.items()} for kind, by in entities.items()},
        "labels": labels,
        "changed_properties": properties,
        "files": {"added": ADDED_FILE, "removed": REMOVED_FILE},
    }

    def nquads(quads: list[ox.Quad]) -> bytes:
        if not quads:
            return b""
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""

    files = [
        _file(directory, ADDED_FILE, "application/n-quads", CHANGES_FORMAT, nquads(added)),
        _file(directory, REMOVED_FILE, "application/n-quads", CHANGES_FORMAT, nquads(removed)),
    ]
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    files.append(_file(directory, CHANGES_FILE, "application/json", CHANGES_FORMAT, text.encode("utf-8")))
    return files


def carry_over(source_dir: Path, directory: Path) -> list[DumpFile]:
    """Copy an identical rebuild's change set (the one the same build already published)."""
    files = []
    for name, media_type, fmt in (
        (ADDED_FILE, "application/n-quads", CHANGES_FORMAT),
        (REMOVED_FILE, "application/n-quads", CHANGES_FORMAT),
        (CHANGES_FILE, "application/json", CHANGES_FORMAT),
    ):
        files.append(_file(directory, name, media_type, fmt, (source_dir / name).read_bytes()))
    return files
