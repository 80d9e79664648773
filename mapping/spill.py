"""The corpus as sorted files, not lists: each plan's quads spilled to an N-Triples file in canonical
order as soon as the plan is done, and the corpus read by merging those files.

The build holds one plan's quads at a time; the default graph of the corpus (the union of the plans'
graphs, the ontology and the linksets) is the merge of the plans' files, equal lines (quads that
several plans share) written once.

Why merging lines gives ``dumps.canonical_order``: a line of N-Triples is ``s p o .``, each term
written as ``str(term)`` writes it, and ``dumps.sort_key`` compares ``(str(s), str(p), str(o))``. A
term ends with ``>`` (an IRI, which cannot contain ``>``) or is a literal, the last term; so of two
lines the first place they differ is the first place their subjects, predicates or objects differ, or
the character after a literal that is a prefix of the other one (a space, below ``@``, ``^`` and
``-``): byte order of the lines (UTF-8 keeps code-point order) is the order of the tuples.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import pyoxigraph as ox

FAN_IN = 128  # files merged at once; more are merged in groups into intermediate files first
_BATCH = 20_000  # quads serialised at a time
RUN = 5_000  # triples held by ``Runs`` before they are written as a sorted run


def nt_bytes(quads: Sequence[ox.Quad]) -> bytes:
    """The quads' triples as N-Triples, one line each, in the order given."""
    out = []
    for start in range(0, len(quads), _BATCH):
        part = [q.triple for q in quads[start : start + _BATCH]]
        out.append(ox.serialize(part, format=ox.RdfFormat.N_TRIPLES) or b"")
    return b"".join(out)


def write_sorted(path: Path, quads: Sequence[ox.Quad]) -> None:
    """Spill ``quads`` (distinct, in canonical order, one graph) to ``path`` as N-Triples."""
    path.write_bytes(nt_bytes(quads))


def read_quads(path: Path, graph: str | None = None) -> Iterator[ox.Quad]:
    """The triples of an N-Triples file as quads of the default graph (``None``) or of ``graph``,
    read as they are parsed."""
    name: ox.NamedNode | ox.DefaultGraph = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
        yield ox.Quad(q.subject, q.predicate, q.object, name)


def read_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from f


def unique(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Sorted lines with equal neighbours written once."""
    previous = None
    for line in lines:
        if line != previous:
            yield line
            previous = line


def merged(paths: Sequence[Path], extra: Iterable[bytes] = (), work: Path | None = None) -> Iterator[bytes]:
    """The distinct lines of sorted files ``paths`` and of the sorted ``extra``, in order. At most
    ``FAN_IN`` files are open at once: beyond that, groups are merged into files first (in a temporary
    directory, inside ``work`` when given)."""
    with ExitStack() as stack:
        if len(paths) > FAN_IN:
            # A directory of this merge's own (removed when it is done), in ``work`` when given.
            own = stack.enter_context(tempfile.TemporaryDirectory(prefix="merge-", dir=work))
            paths = _merge_groups(paths, Path(own))
        yield from unique(heapq.merge(*(read_lines(p) for p in paths), extra))


def _merge_groups(paths: Sequence[Path], work: Path) -> list[Path]:
    level = 0
    while len(paths) > FAN_IN:
        level += 1
        out = []
        for i in range(0, len(paths), FAN_IN):
            target = work / f"merge-{level}-{i // FAN_IN}.nt"
            with target.open("wb") as f:
                f.writelines(unique(heapq.merge(*(read_lines(p) for p in paths[i : i + FAN_IN]))))
            out.append(target)
        paths = out
    return list(paths)


def in_graph(lines: Iterable[bytes], graph: str) -> Iterator[bytes]:
    """N-Triples lines as N-Quads lines of the named graph ``graph`` (``s p o .`` → ``s p o <g> .``)."""
    suffix = f" {ox.NamedNode(graph)} .\n".encode()
    for line in lines:
        yield line[:-3] + suffix


def iris(quads: Iterable[ox.Quad | ox.Triple]) -> list[str]:
    """The distinct IRIs the quads (or triples) use (subjects, predicates, objects, literals'
    datatypes), sorted."""
    found: set[str] = set()
    for q in quads:
        for term in (q.subject, q.predicate, q.object):
            if isinstance(term, ox.NamedNode):
                found.add(term.value)
            elif isinstance(term, ox.Literal):
                found.add(term.datatype.value)
    return sorted(found)


def write_iris(path: Path, values: Sequence[str]) -> None:
    """Spill sorted IRIs, one a line (an IRI holds no line break)."""
    path.write_bytes("".join(f"{v}\n" for v in values).encode("utf-8"))


class Runs:
    """Triples given in any order, kept as sorted files: held ``size`` at a time, then written as a
    run (its distinct lines sorted, and its distinct IRIs, as ``write_iris``), so that ``merged`` and
    ``merged_iris`` read them with the other sorted files. For statements that are many per plan,
    made one plan at a time (the catalogue's, each version's seeds), never all held at once."""

    def __init__(self, work: Path, size: int | None = None) -> None:
        self.work = work
        self.size = RUN if size is None else size
        self.paths: list[Path] = []
        self.iris: list[Path] = []
        self._held: list[ox.Triple] = []

    def add(self, triple: ox.Triple) -> None:
        self._held.append(triple)
        if len(self._held) >= self.size:
            self.flush()

    def flush(self) -> None:
        """Write what is held as a run (nothing when nothing is)."""
        if not self._held:
            return
        self.work.mkdir(parents=True, exist_ok=True)
        data = ox.serialize(self._held, format=ox.RdfFormat.N_TRIPLES) or b""
        path = self.work / f"run-{len(self.paths)}.nt"
        path.write_bytes(b"".join(unique(sorted(data.splitlines(keepends=True)))))
        write_iris(path.with_suffix(".iris"), iris(self._held))
        self.paths.append(path)
        self.iris.append(path.with_suffix(".iris"))
        self._held = []


def merged_iris(paths: Sequence[Path], extra: Sequence[str], work: Path | None = None) -> Iterator[str]:
    """The distinct IRIs of the sorted IRI files and of ``extra`` (sorted), in order."""
    lines = merged(paths, (f"{v}\n".encode() for v in extra), work)
    return (line[:-1].decode("utf-8") for line in lines)
