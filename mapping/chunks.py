"""The corpus's dumps written as chunks, each chunk's costly forms (its Turtle, its JSON-LD nodes, its
compressed bytes) cached by the SHA-256 of its content, so that a rebuild after one changed plan
serialises and compresses only the chunks that plan changed; every other chunk is copied.

A chunk is a run of lines (in the dump's canonical order) whose subjects belong to one owner: the
plan whose IRI space ``{base}id/plan/{slug}…`` holds the subject, or none (the catalogued entities, the
ontology, the cited documents, the linksets: cut into runs of about ``CUT`` subjects, ``chunked``).
In the default graph a chunk ends only where the subject changes, so the Turtle of a chunk (``;`` and
``,`` abbreviate only within a subject) and its JSON-LD nodes (one node per subject) are pieces of the
whole document's: the whole is a header, the chunks' pieces in order, and a trailer.
``tests/test_incremental.py`` checks this against ``dumps.write_dumps`` of the whole graph.

The ``.gz`` files are one gzip member (RFC 1952) whose deflate stream is the chunks' deflate streams,
each compressed on its own and ended by a sync flush (an empty stored block: byte-aligned, not final),
then an empty final block, the CRC-32 and the length of the whole. A chunk's compressed bytes are a
function of its bytes alone, so they are cached with it; any gzip reader reads the file as one stream.
A cold build (no cache) writes exactly the same bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import struct
import tempfile
import textwrap
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from mapping import dumps
from mapping.dumps import DumpFile, DumpFormat
from mapping.prune import Journal

# The header ``gzip.GzipFile(filename="", mtime=0, compresslevel=9)`` writes: no name, mtime 0,
# "maximum compression" flag, unknown OS.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
_FINAL_BLOCK = b"\x03\x00"  # an empty final block with fixed Huffman codes


def deflate(data: bytes) -> bytes:
    """``data`` as raw deflate at level 9, ended by a sync flush (the stream goes on after it)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


@dataclass
class Counts:
    """What a chunked write did: chunks taken from the cache and chunks made (serialised, compressed)."""

    reused: int = 0
    made: int = 0
    made_owners: set[str] = field(default_factory=set)
    # The N-Quads dump's chunks in order: (content key, owner, named graph or "", offset, length).
    nquads: list[tuple[str, str, str, int, int]] = field(default_factory=list)


class ChunkCache:
    """``{directory}/chunks/{key[:2]}/{key}``: a chunk's cached forms, one file each; None as directory:
    nothing cached (a cold build), everything made."""

    def __init__(
        self, directory: Path | None, counts: Counts | None = None, journal: Journal | None = None
    ) -> None:
        self.directory = directory
        self.counts = counts if counts is not None else Counts()
        self.journal = journal  # notes every key used (mapping.prune keeps those)

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / "chunks" / key[:2] / key

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{key}.", delete=False) as f:
                f.write(data)
            Path(f.name).replace(path)
        except OSError:
            return  # a cache that cannot be written only costs time

    def made(self, key: str, make: Callable[[], bytes], owner: str) -> bytes:
        """The cached value of ``key``, or ``make()``'s (then cached)."""
        if self.journal is not None:
            self.journal.used(f"chunks/{key[:2]}/{key}")
        found = self.get(key)
        if found is not None:
            self.counts.reused += 1
            return found
        value = make()
        self.put(key, value)
        self.counts.made += 1
        self.counts.made_owners.add(owner)
        return value


def _key(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


class GzipOut:
    """A dump and its ``.gz`` written from pieces: the plain bytes, and for the gzip each piece's
    deflate bytes (cached by the caller, or made here)."""

    def __init__(self, directory: Path, name: str, fmt: DumpFormat) -> None:
        self.name, self.fmt = name, fmt
        self.plain = (directory / name).open("wb")
        self.packed = (directory / (name + ".gz")).open("wb")
        self.plain_sha, self.packed_sha = hashlib.sha256(), hashlib.sha256()
        self.size = self.packed_size = 0
        self.crc = 0
        self._packed(GZIP_HEADER)

    def _packed(self, data: bytes) -> None:
        self.packed.write(data)
        self.packed_sha.update(data)
        self.packed_size += len(data)

    def write(self, data: bytes, deflated: bytes | None = None) -> None:
        if not data:
            return
        self.plain.write(data)
        self.plain_sha.update(data)
        self.size += len(data)
        self.crc = zlib.crc32(data, self.crc)
        self._packed(deflate(data) if deflated is None else deflated)

    def close(self) -> list[DumpFile]:
        self._packed(_FINAL_BLOCK + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        self.plain.close()
        self.packed.close()
        f = self.fmt
        return [
            DumpFile(self.name, f.name, f.media_type, False, self.size, self.plain_sha.hexdigest()),
            DumpFile(
                self.name + ".gz", f.name, f.media_type, True, self.packed_size, self.packed_sha.hexdigest()
            ),
        ]

    def abort(self) -> None:
        self.plain.close()
        self.packed.close()


def owner(line: bytes, plan_prefix: bytes) -> bytes:
    """The plan IRI space a line's subject is in (the slug's bytes), or b"" for none (the same of
    the line and of its subject ``<…>`` alone: the subject's ``>`` ends the search in both)."""
    if not line.startswith(plan_prefix):
        return b""
    rest = line[len(plan_prefix) :]
    end = len(rest)
    for stop in (b"/", b">"):
        at = rest.find(stop)
        if at != -1 and at < end:
            end = at
    return rest[:end]


CUT = 32  # a run of subjects no plan owns is cut after a subject whose CRC-32 is a multiple of this


def chunked(
    lines: Iterable[bytes], plan_prefix: bytes, *, named: bool = False
) -> Iterator[tuple[bytes, bytes]]:
    """Runs of lines with one owner (``owner``) and, for N-Quads lines of named graphs (``named``),
    one graph: (owner, the run's bytes). A run of subjects no plan owns (the ontology, the catalogued
    entities, the cited documents: one long run) is cut further after each subject whose CRC-32 is a
    multiple of ``CUT``: a cut depends on that subject alone, so a change elsewhere moves no cut, and
    a plan's new mention of an entity changes one chunk of them, not all."""
    run: list[bytes] = []
    key: tuple[bytes, bytes] | None = None
    subject, cut, whose = b"", False, b""
    for line in lines:
        this = line[: line.find(b" ")]
        if this != subject:  # a subject's lines have one owner: looked up once a subject, not a line
            whose = owner(this, plan_prefix)
        k = (whose, _graph_of(line) if named else b"")
        if run and (k != key or (cut and this != subject)):
            assert key is not None
            yield key[0], b"".join(run)
            run = []
        if this != subject or k != key:
            cut = k[0] == b"" and zlib.crc32(this) % CUT == 0
        key, subject = k, this
        run.append(line)
    if run:
        assert key is not None
        yield key[0], b"".join(run)


def _graph_of(line: bytes) -> bytes:
    """The graph IRI of an N-Quads line of a named graph (``… <g> .``): the last `` <`` of the line
    opens it, since an IRI holds neither a space nor ``<``."""
    return line[line.rfind(b" <") :]


_PROBE = ox.Triple(ox.NamedNode("urn:x"), ox.NamedNode("urn:x"), ox.NamedNode("urn:x"))
_PROBE_LINE = b"<urn:x> <urn:x> <urn:x> .\n"


def _turtle_head(prefixes: dict[str, str]) -> bytes:
    """The prefix declarations pyoxigraph's Turtle writer puts before the first triple."""
    text = ox.serialize([_PROBE], format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    if not text.endswith(_PROBE_LINE):
        raise AssertionError(f"unexpected Turtle of one triple: {text!r}")
    return text[: -len(_PROBE_LINE)]


def _turtle_body(data: bytes, prefixes: dict[str, str], head: bytes) -> bytes:
    triples = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    text = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    if not text.startswith(head):
        raise AssertionError("Turtle of a chunk does not start with the prefix declarations")
    return text[len(head) :]


def _json_ld_nodes(data: bytes, prefixes: dict[str, str]) -> tuple[bytes, list[str]]:
    """The JSON-LD node objects of a chunk as ``dumps._json_ld_pieces`` writes them (joined by
    ``,\\n``), and the prefixes they use."""
    compactor = dumps._JsonLdCompactor(prefixes)
    texts = []
    triples = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    for _, group in itertools.groupby(triples, key=lambda t: t.subject):
        expanded = json.loads(dumps._to_bytes(ox.serialize(list(group), format=ox.RdfFormat.JSON_LD)))
        for node in expanded:
            text = json.dumps(compactor.node(node), ensure_ascii=False, indent=1)
            texts.append(textwrap.indent(text, "  ", lambda _line: True))
    return ",\n".join(texts).encode("utf-8"), sorted(compactor.used)


def write_corpus_dumps(
    directory: Path,
    prefixes: dict[str, str],
    default_lines: Iterable[bytes],
    named_lines: Iterable[bytes],
    iris: Iterable[str],
    plan_prefix: str,
    cache: ChunkCache,
) -> tuple[list[DumpFile], int]:
    """The corpus's dumps from lines (the plain bytes ``dumps.write_dumps`` makes of the whole graph),
    chunk by chunk: see the module's docstring. ``default_lines``: the default graph's distinct
    N-Triples lines in canonical order; ``named_lines``: the named graphs' N-Quads lines in canonical
    order; ``iris``: the default graph's distinct IRIs (Turtle declares the prefixes that suit them);
    ``plan_prefix``: ``{base}id/plan/`` (chunks are cut by the plans' IRI spaces). Returns the files
    and the default graph's triple count."""
    # The JSON-LD nodes (plain, deflated) wait in a file until the @context is known.
    with tempfile.TemporaryFile() as pieces:
        return _write_chunks(
            directory, prefixes, (default_lines, named_lines, iris), plan_prefix, cache, pieces
        )


def _write_chunks(
    directory: Path,
    prefixes: dict[str, str],
    lines: tuple[Iterable[bytes], Iterable[bytes], Iterable[str]],
    plan_prefix: str,
    cache: ChunkCache,
    pieces: IO[bytes],
) -> tuple[list[DumpFile], int]:
    default_lines, named_lines, iris = lines
    formats = {f.rdf_format: f for f in dumps.FORMATS}
    nt, nq = formats[ox.RdfFormat.N_TRIPLES], formats[ox.RdfFormat.N_QUADS]
    turtle, json_ld = formats[ox.RdfFormat.TURTLE], formats[ox.RdfFormat.JSON_LD]
    marker = b"<" + plan_prefix.encode("utf-8")
    turtle_prefixes = dumps.prefixes_for(iris, prefixes)
    head = _turtle_head(turtle_prefixes)
    prefix_key = json.dumps(turtle_prefixes, sort_keys=True).encode("utf-8")
    json_key = json.dumps(prefixes, sort_keys=True).encode("utf-8")
    outs = [GzipOut(directory, f.file_name, f) for f in (nt, nq, turtle)]
    nt_out, nq_out, ttl_out = outs
    used: set[str] = set()
    count = 0
    index: list[tuple[int, int, int]] = []  # per chunk: plain length, deflated length
    files: list[DumpFile] = []
    try:
        for who, data in chunked(default_lines, marker):
            if not count:
                ttl_out.write(head)  # pyoxigraph writes the prefixes before the first triple
            name = who.decode("utf-8")
            count += data.count(b"\n")
            content = _key(b"nt", data)
            deflated = cache.made(content, lambda data=data: deflate(data), name)  # type: ignore[misc]
            nt_out.write(data, deflated)
            cache.counts.nquads.append((content, name, "", nq_out.size, len(data)))
            nq_out.write(data, deflated)
            body = cache.made(
                _key(b"ttl", prefix_key, data),
                lambda data=data: _turtle_body(data, turtle_prefixes, head),  # type: ignore[misc]
                name,
            )
            ttl_out.write(body, cache.made(_key(b"ttl.gz", body), lambda body=body: deflate(body), name))  # type: ignore[misc]
            record = cache.made(
                _key(b"jsonld", json_key, data),
                lambda data=data: _json_ld_record(*_json_ld_nodes(data, prefixes)),  # type: ignore[misc]
                name,
            )
            nodes, node_prefixes = _json_ld_parse(record)
            if nodes:
                used.update(node_prefixes)
                packed = cache.made(_key(b"jsonld.gz", nodes), lambda nodes=nodes: deflate(nodes), name)  # type: ignore[misc]
                pieces.write(nodes)
                pieces.write(packed)
                index.append((len(nodes), len(packed), 0))
        for who, data in chunked(named_lines, marker, named=True):
            content, name = _key(b"nt", data), who.decode("utf-8")
            deflated = cache.made(content, lambda data=data: deflate(data), name)  # type: ignore[misc]
            graph = _graph_of(data[: data.index(b"\n") + 1])[2:-4].decode("utf-8")
            cache.counts.nquads.append((content, name, graph, nq_out.size, len(data)))
            nq_out.write(data, deflated)
        files += nt_out.close() + nq_out.close() + ttl_out.close()
        outs = []
        context = {name: prefixes[name] for name in sorted(used)}
        text = json.dumps(context, ensure_ascii=False, indent=1).replace("\n", "\n ")
        jsonld_out = GzipOut(directory, json_ld.file_name, json_ld)
        outs = [jsonld_out]
        jsonld_out.write(
            ('{\n "@context": ' + text + ',\n "@graph": ' + ("[\n" if index else "[]")).encode("utf-8")
        )
        pieces.seek(0)
        for i, (plain_length, packed_length, _) in enumerate(index):
            if i:
                jsonld_out.write(b",\n")
            jsonld_out.write(pieces.read(plain_length), pieces.read(packed_length))
        jsonld_out.write((("\n ]" if index else "") + "\n}\n").encode("utf-8"))
        files += jsonld_out.close()
        outs = []
    finally:
        for out in outs:
            out.abort()
    return files, count


def _json_ld_record(nodes: bytes, used: list[str]) -> bytes:
    return json.dumps(used).encode("utf-8") + b"\n" + nodes


def _json_ld_parse(record: bytes) -> tuple[bytes, list[str]]:
    head, _, nodes = record.partition(b"\n")
    return nodes, list(json.loads(head))
