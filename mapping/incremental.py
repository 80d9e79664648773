"""A rebuild after a few changed plans: the store, the tables and the change set made from the
difference between the previous build and the new one, not from the whole corpus.

The corpus's N-Quads dump is written in chunks (``mapping.chunks``), and the list of its chunks (each
one's content key, owner, graph, offset and length) is kept in the cache under the dump's SHA-256
(``{cache}/chunks/index/{sha256}.json``). When the build in ``dist/`` is the one the store holds and
its dump's chunk list is known, the new dump's chunk list says which chunks are new and which are gone:
only their lines are read, and their difference (lines in gone chunks and in no new one, and the
reverse) is exactly the difference of the two dumps, as a walk over both would find it.

From it:

* the store: a checkpoint of the previous store (``Store.backup``: hard links to its immutable files)
  with the removed quads removed, the added ones added and the dataset description replaced (the
  previous one removed as its file lists it: ``remove_description``); built
  beside the store and swapped in like a cold build's (a failure leaves the previous store);
* the tables (``mapping.tables``): the rows of the previous build's CSV files, except the rows whose
  cells may have changed — a node whose own triples changed, or one whose column path passes through
  such a node — which are read again from the new store;
* the change set (``mapping.changes``): the quads of the subjects the difference touches, read from
  the chunks that may hold them (those of the subjects' owners), not from a walk over both dumps.

Each part falls back to the cold way (load the whole dump, read every table, walk both dumps) when
the previous build is not there whole. The output is the same bytes either way
(``tests/test_incremental.py``).
"""

from __future__ import annotations

import csv
import heapq
import itertools
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from mapping import layout, tables
from mapping.dumps import DumpFile
from mapping.vocab import Vocab

INDEX_DIR = "index"
Chunk = tuple[str, str, str, int, int]  # content key, owner, graph ("" default), offset, length


@dataclass
class Delta:
    """What changed between two builds' N-Quads dumps: the lines (``s p o [g] .``) added and removed,
    each with its graph ("" for the default graph), and how many chunks were read to find them."""

    added: list[tuple[str, bytes]]
    removed: list[tuple[str, bytes]]
    chunks_read: int

    def subjects(self, *, default_only: bool = False) -> set[str]:
        """The subjects (IRIs) of the changed lines; of the default graph's only, with ``default_only``."""
        return {
            _subject(line) for graph, line in (*self.added, *self.removed) if not (default_only and graph)
        }


def _subject(line: bytes) -> str:
    """The subject of a dump line: an IRI (the build skolemises blank nodes), which holds no space."""
    return line[1 : line.find(b" ") - 1].decode("utf-8")


def index_path(cache_dir: Path, sha256: str) -> Path:
    return cache_dir / "chunks" / INDEX_DIR / f"{sha256}.json"


def save_index(cache_dir: Path | None, nquads: DumpFile, chunks: Sequence[Chunk]) -> None:
    """Keep the chunk list of an N-Quads dump (by its SHA-256) for the next build."""
    if cache_dir is None:
        return
    path = index_path(cache_dir, nquads.sha256)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as f:
            json.dump([list(c) for c in chunks], f)
        Path(f.name).replace(path)
    except OSError:
        return


def load_index(cache_dir: Path | None, sha256: str) -> list[Chunk] | None:
    if cache_dir is None:
        return None
    try:
        raw = json.loads(index_path(cache_dir, sha256).read_text(encoding="utf-8"))
        return [(str(k), str(o), str(g), int(at), int(n)) for k, o, g, at, n in raw]
    except (OSError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Previous:
    """The build now in ``dist/`` and the store, when they are one build whose dump's chunks are known."""

    build_id: str
    nquads: Path
    chunks: list[Chunk]
    store_dir: Path
    dist_dir: Path


def previous_build(
    dist_dir: Path,
    store_dir: Path,
    cache_dir: Path | None,
    build_info: dict[str, object] | None,
    base: str,
) -> Previous | None:
    """The previous build, if a rebuild can start from it: its store and its dumps from one build (the
    same ``build_id``) under the same ``base`` (the store holds the dumps' quads and the description
    graph of that base, which the rebuild replaces), its N-Quads dump the one its manifest lists, that
    dump's chunk list cached."""
    if cache_dir is None or build_info is None or build_info.get("base") != base:
        return None
    try:
        manifest = json.loads((dist_dir / layout.MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("build_id") != build_info.get("build_id"):
        return None
    listed = {str(f.get("name")): f for f in manifest.get("files", []) if isinstance(f, dict)}
    entry = listed.get("plankg.nq")
    nquads = dist_dir / "plankg.nq"
    if entry is None or not nquads.is_file() or nquads.stat().st_size != entry.get("bytes"):
        return None
    chunks = load_index(cache_dir, str(entry.get("sha256")))
    if chunks is None or sum(c[4] for c in chunks) != nquads.stat().st_size:
        return None
    return Previous(str(build_info["build_id"]), nquads, chunks, store_dir, dist_dir)


def _read(path: Path, chunk: Chunk) -> bytes:
    with path.open("rb") as f:
        f.seek(chunk[3])
        return f.read(chunk[4])


MAX_DELTA_BYTES = 64 << 20  # changed chunks read (both dumps) beyond which a rebuild loads whole


def delta(previous: Previous, new_nquads: Path, new_chunks: Sequence[Chunk]) -> Delta | None:
    """The lines of the previous dump that the new one lacks (removed) and the reverse (added), in
    dump order, reading only the chunks that are not in both; None when those are more than a quarter
    of the dumps or ``MAX_DELTA_BYTES`` (a change of most plans, or of the code: loading the new dump
    whole is then about as cheap, and the difference is not held in memory)."""
    before, after = Counter(c[0] for c in previous.chunks), Counter(c[0] for c in new_chunks)
    gone = [c for c in previous.chunks if before[c[0]] > after[c[0]]]
    new = [c for c in new_chunks if after[c[0]] > before[c[0]]]
    size = sum(c[4] for c in (*gone, *new))
    if size > min(MAX_DELTA_BYTES, (sum(c[4] for c in previous.chunks) + sum(c[4] for c in new_chunks)) // 4):
        return None
    old_lines = [(c[2], line) for c in gone for line in _read(previous.nquads, c).splitlines(keepends=True)]
    new_lines = [(c[2], line) for c in new for line in _read(new_nquads, c).splitlines(keepends=True)]
    old_set, new_set = {line for _, line in old_lines}, {line for _, line in new_lines}
    return Delta(
        added=[x for x in new_lines if x[1] not in old_set],
        removed=[x for x in old_lines if x[1] not in new_set],
        chunks_read=len(gone) + len(new),
    )


def _owner(iri: str, plan_prefix: str) -> str:
    if not iri.startswith(plan_prefix):
        return ""
    rest = iri[len(plan_prefix) :]
    return rest.split("/", 1)[0]


def touched(
    previous: Previous, new_nquads: Path, new_chunks: Sequence[Chunk], subjects: set[str], plan_prefix: str
) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """The quads (old, new) of ``subjects`` in every graph (``changes.touched_quads``'s answer): read from
    the chunks of the subjects' owners only."""
    owners = {_owner(s, plan_prefix) for s in subjects}
    marks = {f"<{s}>".encode() for s in subjects}

    def of(path: Path, chunks: Sequence[Chunk]) -> list[ox.Quad]:
        lines = []
        for c in chunks:
            if c[1] in owners:
                lines += [
                    line
                    for line in _read(path, c).splitlines(keepends=True)
                    if line[: line.find(b" ")] in marks
                ]
        return list(ox.parse(b"".join(lines), format=ox.RdfFormat.N_QUADS)) if lines else []

    return of(previous.nquads, previous.chunks), of(new_nquads, new_chunks)


def quads(lines: Iterable[tuple[str, bytes]]) -> list[ox.Quad]:
    data = b"".join(line for _, line in lines)
    return list(ox.parse(data, format=ox.RdfFormat.N_QUADS)) if data else []


def updated_store(previous: Previous, target: Path, change: Delta, description_graph: str) -> ox.Store:
    """A checkpoint of the previous store at ``target`` (a path that does not exist yet) with ``change``
    applied and the dataset description graph emptied (the build loads the new one)."""
    old = ox.Store.read_only(str(previous.store_dir))
    try:
        old.backup(str(target))
    finally:
        del old
    for name in os.listdir(target):
        if name == "plankg-build.json":  # not a file of the store's own: written by the build anew
            os.unlink(target / name)
    store = ox.Store(str(target))
    remove_description(store, previous.dist_dir / layout.DESCRIPTION_FILE, description_graph)
    for q in quads(change.removed):
        store.remove(q)
    added = quads(change.added)
    if added:
        store.extend(added)
    return store


_REMOVE_FLUSH = 20_000  # quads removed between two flushes of the store's write buffer


def remove_description(store: ox.Store, listed: Path, description_graph: str) -> int:
    """Empty the description graph of ``store``: the quads of the previous build's description file
    ``listed`` (what the store's description graph holds) removed one at a time, as the file is parsed,
    the store flushed every ``_REMOVE_FLUSH``; then the graph itself, with whatever the file did not
    list. How many quads the file listed.

    ``Store.remove_graph`` alone is one transaction holding every deletion in memory until it commits,
    and reads the graph from the store to find them: +27 MiB at 100 plans, growing with the corpus
    (the description is ~150 quads a plan), where removing the listed quads takes +12 MiB and less
    time (bench/results/2026-12-03-corpus-s8-mem.md)."""
    graph = ox.NamedNode(description_graph)
    count = 0
    try:
        for t in ox.parse(path=str(listed), format=ox.RdfFormat.TURTLE):
            store.remove(ox.Quad(t.subject, t.predicate, t.object, graph))
            count += 1
            if count % _REMOVE_FLUSH == 0:
                store.flush()
    except (OSError, SyntaxError):  # no file, or not whole: remove_graph finds the rest
        pass
    store.remove_graph(graph)
    return count


def rows_to_redo(store: ox.Store, table: tables.Table, vocab: Vocab, changed: set[str]) -> set[str]:
    """The rows of ``table`` whose cells may differ from the previous build's: the changed subjects of
    the default graph, and every node of the table's class from which a column's path reaches one of
    them through nodes (a path's prefixes, in the new store: a node whose own triples did not change
    reaches the same nodes as before, up to the first changed one)."""
    if not changed:
        return set()
    found = set(changed)
    head = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in sorted(tables._prefixes(vocab).items()))
    values = " ".join(f"<{iri}>" for iri in sorted(changed))
    prefixes = set()
    for column in table.columns:
        steps = column.path.split("/")
        for n in range(1, len(steps)):
            prefixes.add("/".join(steps[:n]))
        if column.where is not None or column.path.endswith("+"):
            prefixes.add(column.path)
    for path in sorted(prefixes):
        text = (
            f"{head}SELECT DISTINCT ?row WHERE {{ VALUES ?node {{ {values} }} "
            f"?row {path} ?node . ?row a {table.cls} . }}"
        )
        result = store.query(text)
        assert isinstance(result, ox.QuerySolutions)
        for solution in result:
            row = solution["row"]
            if isinstance(row, ox.NamedNode):
                found.add(row.value)
    return found


def _csv_rows(path: Path) -> Iterator[list[str]]:
    """The rows of a CSV file, read as they are parsed."""
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.reader(f)


def _in_key_order(path: Path) -> bool:
    """Whether the body rows of a table file are in strictly increasing order of their key (as the
    build writes them: ``ORDER BY STR(?key)``, or sorted by it), read as they are parsed."""
    previous = None
    for row in itertools.islice(_csv_rows(path), 1, None):
        if previous is not None and row[0] <= previous:
            return False
        previous = row[0]
    return True


def _row_key(row: Sequence[str]) -> str:
    return row[0]


@dataclass
class TableCounts:
    """Rows read again from the store, per table."""

    redone: dict[str, int] = field(default_factory=dict)


def write_tables(
    store: ox.Store,
    directory: Path,
    vocab: Vocab,
    previous_dist: Path,
    changed: set[str],
    counts: TableCounts,
) -> list[DumpFile] | None:
    """The tables, from the previous build's files and the rows ``changed`` may have changed (the same
    bytes as ``tables.write_tables``); None when a previous table is missing."""
    for t in tables.TABLES:
        if not (previous_dist / t.file_name).is_file():
            return None

    def made() -> Iterable[tuple[tables.Table, Iterable[Sequence[str]]]]:
        for t in tables.TABLES:  # one table at a time
            header = [t.key, *(c.name for c in t.columns)]
            path = previous_dist / t.file_name
            if next(_csv_rows(path), None) != header:  # another layout of the table: read it whole
                fresh = list(tables.rows(store, t, vocab))
                counts.redone[t.name] = len(fresh)
                yield t, fresh
                continue
            redo = rows_to_redo(store, t, vocab, changed)
            fresh = list(tables.rows(store, t, vocab, only=sorted(redo))) if redo else []
            counts.redone[t.name] = len(fresh)
            fresh.sort(key=_row_key)
            kept = (r for r in itertools.islice(_csv_rows(path), 1, None) if r[0] not in redo)
            if _in_key_order(path):
                # The previous rows as they are read, the few read again merged in: the rows a
                # sort of both gives (a merge keeps the previous row first on an equal key, as the
                # stable sort did), never the whole table in memory (11 MB of divisions at 1,000 plans).
                yield t, heapq.merge(kept, fresh, key=_row_key)
            else:
                body = [*kept, *fresh]
                body.sort(key=_row_key)
                yield t, body

    return tables.write_table_files(directory, vocab, made())
