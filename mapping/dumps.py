"""Deterministic dump files: one canonical quad order, four formats, gzip, SHA-256 manifest.

Determinism is by construction, not by luck: every rdflib graph is converted to pyoxigraph quads,
blank nodes (if any) are replaced by IRIs derived from a canonical labelling, the quads are sorted by
their N-Quads terms, and each format is serialised from that one order. Gzip headers carry
``mtime=0`` and no file name. Nothing here reads a clock.

What goes where (see also docs/ARCHITECTURE.md):

* the plan is the **default graph**: the ``.ttl``, ``.nt`` and ``.jsonld`` dumps hold exactly it;
* other graphs (the SHACL validation report, ``{base}id/graph/validation``) are **named graphs**
  and appear only in the ``.nq`` dump;
* the dataset description (``dataset_graph``) describes the dump files, so it is written beside them
  (``void.ttl``) and loaded into the store's ``{base}id/graph/dataset``, never into a dump.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, cast

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.compare import to_canonical_graph
from rdflib.namespace import DCTERMS, FOAF
from rdflib.term import Node

from mapping import spill
from mapping.layout import DESCRIPTION_FILE, DUMP_STEM, GZIP_MEDIA_TYPE, MANIFEST_FILE, SUMS_FILE
from mapping.vocab import DCAT, PROV, SD, SPDX, VOID, Vocab

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


@dataclass(frozen=True)
class DumpFormat:
    """One dump format, described once: its name, file extension and media type."""

    name: str
    extension: str
    media_type: str
    rdf_format: ox.RdfFormat
    quads: bool  # True: all graphs (N-Quads); False: the default graph only

    @property
    def file_name(self) -> str:
        return f"{DUMP_STEM}.{self.extension}"


FORMATS: tuple[DumpFormat, ...] = (
    DumpFormat("turtle", "ttl", "text/turtle", ox.RdfFormat.TURTLE, quads=False),
    DumpFormat("n-triples", "nt", "application/n-triples", ox.RdfFormat.N_TRIPLES, quads=False),
    DumpFormat("n-quads", "nq", "application/n-quads", ox.RdfFormat.N_QUADS, quads=True),
    DumpFormat("json-ld", "jsonld", "application/ld+json", ox.RdfFormat.JSON_LD, quads=False),
)


RDF_FORMAT_NAMES = frozenset(f.name for f in FORMATS)
# The CSV tables and their CSVW metadata (mapping.tables): the specifications they follow.
TABULAR_FORMATS = {
    "csv": "http://www.w3.org/TR/tabular-data-model/",
    "csvw": "http://www.w3.org/TR/tabular-metadata/",
}


@dataclass(frozen=True)
class DumpFile:
    """A file written into the dump directory."""

    name: str
    format: str  # a DumpFormat name
    media_type: str
    gzip: bool
    size: int
    sha256: str


class BlankNodeSkolemizer:
    """Replaces blank nodes by IRIs under ``{base}.well-known/genid/`` (RDF 1.1 §3.5).

    The labels come from rdflib's canonical labelling of the graph, so the same graph gets the same
    IRIs in every process whatever the blank node identifiers it was built with.
    """

    def __init__(self, base: str) -> None:
        self.prefix = base + ".well-known/genid/"

    def __call__(self, graph: Graph) -> Graph:
        if not any(isinstance(t, BNode) for triple in graph for t in triple):
            return graph
        canonical = to_canonical_graph(graph)
        out = Graph()
        for triple in canonical:
            s, p, o = (self._iri(t) if isinstance(t, BNode) else t for t in triple)
            out.add((s, p, o))
        return out

    def _iri(self, node: BNode) -> URIRef:
        return URIRef(self.prefix + str(node))


def to_rdflib(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, *, plain_strings: bool = False
) -> Node:
    """An rdflib term for a pyoxigraph one (quoted triples are not expected in a plan's graph);
    ``plain_strings``: a simple literal without a datatype, as rdflib's parsers make it."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return RdfLiteral(term.value, lang=term.language)
        if plain_strings and term.datatype.value == str(XSD.string):
            return RdfLiteral(term.value)
        return RdfLiteral(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"no rdflib term for {term!r}")


def to_oxigraph(node: Node) -> ox.NamedNode | ox.Literal:
    """An rdflib IRI or literal as a pyoxigraph term; blank nodes must have been skolemised."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, RdfLiteral):
        if node.language is not None:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise TypeError(f"cannot store {type(node).__name__} {node!r}: skolemise blank nodes first")


def graph_quads(graph: Graph, graph_name: str | None, skolemize: BlankNodeSkolemizer) -> list[ox.Quad]:
    """The triples of ``graph`` as quads in the default graph (``None``) or the named graph."""
    name: ox.NamedNode | ox.DefaultGraph = (
        ox.DefaultGraph() if graph_name is None else ox.NamedNode(graph_name)
    )
    quads = []
    for s, p, o in skolemize(graph):
        subject = to_oxigraph(s)
        if not isinstance(subject, ox.NamedNode):
            raise TypeError(f"literal in subject position: {s!r}")
        quads.append(ox.Quad(subject, ox.NamedNode(str(p)), to_oxigraph(o), name))
    return quads


def sort_key(quad: ox.Quad) -> tuple[int, str, str, str, str]:
    default = isinstance(quad.graph_name, ox.DefaultGraph)
    graph = "" if default else str(quad.graph_name)
    return (0 if default else 1, graph, str(quad.subject), str(quad.predicate), str(quad.object))


def canonical_order(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Distinct quads, default graph first, then named graphs, each sorted by subject, predicate, object."""
    return sorted(set(quads), key=sort_key)


def _to_bytes(data: bytes | None) -> bytes:
    if data is None:  # only when an output file is given
        raise TypeError("pyoxigraph.serialize returned no bytes")
    return data


def serialize(quads: Sequence[ox.Quad], fmt: DumpFormat, prefixes: dict[str, str]) -> bytes:
    """The bytes of one dump from quads already in canonical order."""
    if fmt.quads:
        return _to_bytes(ox.serialize(quads, format=fmt.rdf_format))

    def triples() -> Iterator[ox.Triple]:  # made as they are read, not held as a second list
        return (q.triple for q in quads if isinstance(q.graph_name, ox.DefaultGraph))

    if fmt.rdf_format == ox.RdfFormat.TURTLE:
        used = _used_prefixes(triples(), prefixes)
        return _to_bytes(ox.serialize(triples(), format=fmt.rdf_format, prefixes=used))
    if fmt.rdf_format == ox.RdfFormat.JSON_LD:
        return _json_ld_by_subject(triples(), prefixes)
    return _to_bytes(ox.serialize(triples(), format=fmt.rdf_format))


class _JsonLdCompactor:
    """Writes IRIs as compact IRIs (``pk:title``, ``id:task/1``) under the prefixes, noting which
    prefixes it used (the ``@context`` names those)."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        # JSON-LD 1.1 uses a term as a prefix only if its IRI ends with a gen-delim; ours end in / or #.
        self.namespaces = sorted(
            ((name, ns) for name, ns in prefixes.items() if ns[-1:] in {"/", "#", ":"}),
            key=lambda p: -len(p[1]),
        )
        self.used: set[str] = set()

    def iri(self, value: str) -> str:
        for name, ns in self.namespaces:
            local = value[len(ns) :]
            if value.startswith(ns) and local and not local.startswith("//"):
                self.used.add(name)
                return f"{name}:{local}"
        return value

    def node(self, obj: Any) -> Any:
        if isinstance(obj, list):
            return [self.node(item) for item in obj]
        if not isinstance(obj, dict):
            return obj
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if key == "@id":
                out[key] = self.iri(value)
            elif key == "@type":
                out[key] = [self.iri(v) for v in value] if isinstance(value, list) else self.iri(value)
            elif key.startswith("@"):
                out[key] = self.node(value)
            else:
                out[self.iri(key)] = self.node(value)
        return out

    def context(self) -> dict[str, str]:
        return {name: self.prefixes[name] for name in sorted(self.used)}


def _compact_json_ld(expanded: list[dict[str, Any]], prefixes: dict[str, str]) -> bytes:
    """pyoxigraph's expanded JSON-LD (one node object per subject, in our order) with IRIs written as
    compact IRIs (``pk:title``, ``id:task/1``) under an ``@context`` of the prefixes, indented.

    Only IRIs in key, ``@id`` and ``@type`` positions are shortened, which JSON-LD expands back;
    literal values are left alone. Nothing is reordered, so the output stays deterministic.
    """
    compactor = _JsonLdCompactor(prefixes)
    graph = compactor.node(expanded)
    document = {"@context": compactor.context(), "@graph": graph}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _json_ld_by_subject(triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> bytes:
    """The bytes ``_compact_json_ld`` makes of the whole default graph (``_json_ld_pieces`` joined)."""
    return b"".join(_json_ld_pieces(triples, prefixes))


def _json_ld_pieces(triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> Iterator[bytes]:
    """The bytes ``_compact_json_ld`` makes of the whole default graph, made one subject at a time:
    triples in canonical order hold each subject's triples together, and pyoxigraph writes one node
    object per subject, so the document is the nodes in order. Only one node's JSON objects exist at
    a time (the whole graph's expanded and compacted object trees were the build's largest Python
    structures), and the nodes' text goes to a temporary file until the ``@context`` (the prefixes
    the nodes used) is known, to be read back piece by piece."""
    compactor = _JsonLdCompactor(prefixes)
    with tempfile.TemporaryFile() as nodes:
        count = 0
        for _, group in itertools.groupby(triples, key=lambda t: t.subject):
            expanded = json.loads(_to_bytes(ox.serialize(list(group), format=ox.RdfFormat.JSON_LD)))
            for node in expanded:
                text = json.dumps(compactor.node(node), ensure_ascii=False, indent=1)
                text = textwrap.indent(text, "  ", lambda _line: True)
                nodes.write(((",\n" if count else "") + text).encode("utf-8"))
                count += 1
        context = json.dumps(compactor.context(), ensure_ascii=False, indent=1)
        context = context.replace("\n", "\n ")  # one level deeper: inside the document object
        yield ('{\n "@context": ' + context + ',\n "@graph": ' + ("[\n" if count else "[]")).encode("utf-8")
        nodes.seek(0)
        while block := nodes.read(1 << 20):
            yield block
        yield (("\n ]" if count else "") + "\n}\n").encode("utf-8")


def _used_prefixes(triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes worth declaring, in a fixed (sorted) order.

    A prefix is declared when it shortens some IRI of ``triples`` and most of the IRIs it shortens
    have a local name without ``/``: the serialiser would write ``id:task\\/1`` otherwise, and a full
    IRI reads better than that.
    """
    return prefixes_for(spill.iris(triples), prefixes)


def prefixes_for(iris: Iterable[str], prefixes: dict[str, str]) -> dict[str, str]:
    """``_used_prefixes`` of the distinct IRIs ``iris``, read once (a corpus's IRIs come from a merge
    of sorted files, never held as one set)."""
    names = sorted(prefixes.items())
    shortened = dict.fromkeys(prefixes, 0)
    slashed = dict.fromkeys(prefixes, 0)
    for iri in iris:
        for name, ns in names:
            if iri.startswith(ns):
                shortened[name] += 1
                slashed[name] += "/" in iri[len(ns) :]
    return {
        ns_name: ns
        for ns_name, ns in names
        if shortened[ns_name] and 2 * slashed[ns_name] < shortened[ns_name]
    }


def gzip_bytes(data: bytes) -> bytes:
    """Gzip with a fixed header (mtime 0, no file name), so the same data gives the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buffer.getvalue()


def _write(directory: Path, name: str, fmt: DumpFormat, data: bytes, *, gzipped: bool) -> DumpFile:
    (directory / name).write_bytes(data)
    return DumpFile(name, fmt.name, fmt.media_type, gzipped, len(data), hashlib.sha256(data).hexdigest())


class _CountingFile:
    """A binary file that keeps the SHA-256 and the size of what is written to it."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("wb")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _write_stream(directory: Path, name: str, fmt: DumpFormat, pieces: Iterable[bytes]) -> list[DumpFile]:
    """A dump and its gzip written piece by piece: gzip's stream does not depend on how its input is
    cut, so these are the bytes of ``_write`` of the whole and of its ``gzip_bytes``, with one
    piece in memory at a time."""
    plain, packed = _CountingFile(directory / name), _CountingFile(directory / (name + ".gz"))
    try:
        with gzip.GzipFile(filename="", mode="wb", fileobj=packed, compresslevel=9, mtime=0) as gz:
            for data in pieces:
                plain.write(data)
                gz.write(data)
    finally:
        plain.close()
        packed.close()
    return [
        DumpFile(name, fmt.name, fmt.media_type, False, plain.size, plain.sha256.hexdigest()),
        DumpFile(name + ".gz", fmt.name, fmt.media_type, True, packed.size, packed.sha256.hexdigest()),
    ]


_CHUNK = 20_000  # quads serialised at a time into a line-based dump


def _line_pieces(chunks: Iterable[Sequence[ox.Quad]], fmt: DumpFormat) -> Iterator[bytes]:
    """N-Quads (or N-Triples of default-graph quads) chunk by chunk: a line per quad (triple), with
    no header and no prefixes, so the lines of successive chunks are the lines of the whole."""
    for chunk in chunks:
        for start in range(0, len(chunk), _CHUNK):
            part = chunk[start : start + _CHUNK]
            items = part if fmt.quads else [q.triple for q in part]
            yield _to_bytes(ox.serialize(items, format=fmt.rdf_format))


def write_dumps(
    quads: Sequence[ox.Quad],
    directory: Path,
    prefixes: dict[str, str],
    *,
    stem: str = DUMP_STEM,
    graphs: Iterable[Sequence[ox.Quad]] = (),
) -> list[DumpFile]:
    """Write every format, plain and gzipped, into ``directory`` as ``{stem}.{extension}``; ``quads``
    in canonical order. ``graphs``: more quads that follow ``quads`` in canonical order (named graphs),
    which only the N-Quads dump holds; taken one sequence at a time (a build makes each plan's graph
    when it is written), read once."""
    files = []
    default = quads[
        : next((i for i, q in enumerate(quads) if not isinstance(q.graph_name, ox.DefaultGraph)), len(quads))
    ]
    for fmt in FORMATS:
        name = f"{stem}.{fmt.extension}"
        if fmt.quads:
            files += _write_stream(directory, name, fmt, _line_pieces(itertools.chain([quads], graphs), fmt))
        elif fmt.rdf_format == ox.RdfFormat.N_TRIPLES:
            files += _write_stream(directory, name, fmt, _line_pieces([default], fmt))
        elif fmt.rdf_format == ox.RdfFormat.JSON_LD:
            files += _write_stream(
                directory, name, fmt, _json_ld_pieces((q.triple for q in default), prefixes)
            )
        else:
            data = serialize(default, fmt, prefixes)
            files.append(_write(directory, name, fmt, data, gzipped=False))
            files.append(_write(directory, name + ".gz", fmt, gzip_bytes(data), gzipped=True))
    return files


def _sum_line(f: DumpFile) -> str:
    return f"{f.sha256}  {f.name}\n"


def _name(f: DumpFile) -> str:
    return f.name


def sums_text(files: Iterable[DumpFile]) -> str:
    """``sha256sum`` format: ``<hex>  <name>`` per line, sorted by name (``sha256sum -c`` reads it)."""
    return "".join(_sum_line(f) for f in sorted(files, key=_name))


FileList = Sequence[DumpFile] | Callable[[], Iterable[DumpFile]]


def _ordered(files: FileList) -> Iterable[DumpFile]:
    """The files in name order: a sequence sorted, or what a callable gives (already in name order,
    made as it is read: a corpus's plans' files are not held)."""
    return files() if callable(files) else sorted(files, key=_name)


def write_manifest(
    directory: Path,
    files: FileList,
    info: dict[str, object],
    lists: Mapping[str, Callable[[], Iterable[object]]] | None = None,
) -> None:
    """Write ``SHA256SUMS`` and ``manifest.json`` (``info`` plus the file list) into ``directory``.
    ``files``: the files, or a callable giving them in name order (called twice); ``lists``: more
    keys of ``info`` whose list is made as it is written (``write_json``)."""
    with (directory / SUMS_FILE).open("w", encoding="utf-8", newline="") as out:
        out.writelines(_sum_line(f) for f in _ordered(files))

    def listed() -> Iterator[dict[str, object]]:
        for f in _ordered(files):
            yield {
                "name": f.name,
                "format": f.format,
                "media_type": f.media_type,
                "gzip": f.gzip,
                "bytes": f.size,
                "sha256": f.sha256,
            }

    write_json(directory / MANIFEST_FILE, info, {**(lists or {}), "files": listed})


_LIST_MARK = "\ue000{}\ue000"  # a private-use character: no key or value of ours holds it


def write_json(
    path: Path, value: dict[str, object], lists: Mapping[str, Callable[[], Iterable[object]]]
) -> None:
    """Write ``json.dumps(value | {key: list(make()) for key, make in lists}, ensure_ascii=False,
    indent=2, sort_keys=True) + "\n"`` to ``path``, the same bytes, with each list's items made and
    written one at a time (a corpus's plans and files are never a list in memory)."""
    marks = {key: _LIST_MARK.format(key) for key in lists}
    text = json.dumps({**value, **marks}, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    with path.open("w", encoding="utf-8", newline="") as out:
        for key in sorted(lists, key=lambda k: text.index(json.dumps(marks[k], ensure_ascii=False))):
            quoted = json.dumps(marks[key], ensure_ascii=False)
            before, _, text = text.partition(quoted)
            out.write(before)
            opened = False
            for item in lists[key]():
                out.write(",\n" if opened else "[\n")
                opened = True
                item_text = json.dumps(item, ensure_ascii=False, indent=2, sort_keys=True)
                out.write(textwrap.indent(item_text, "    ", lambda _line: True))
            out.write("\n  ]" if opened else "[]")
        out.write(text)


def build_id(files: Iterable[DumpFile], *, in_order: bool = False) -> str:
    """A short identifier of the build's output: it changes exactly when some dump's bytes change
    (the SHA-256 of ``sums_text``; ``in_order``: ``files`` are already in name order, read once)."""
    digest = hashlib.sha256()
    for f in files if in_order else sorted(files, key=_name):
        digest.update(_sum_line(f).encode("utf-8"))
    return digest.hexdigest()[:16]


# --- the dataset description (DCAT 3, VoID) -----------------------------------------------------------


class PlanDescription(Protocol):
    """What the description says of one plan (``mapping.build.PlanSummary`` has it)."""

    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def title_en(self) -> str | None: ...
    @property
    def triples(self) -> int: ...
    @property
    def legacy_iris(self) -> bool: ...


def dataset_graph(
    vocab: Vocab,
    info: dict[str, object],
    files: Iterable[DumpFile],
    title: str | None,
    plans: Sequence[tuple[PlanDescription, Sequence[DumpFile]]] = (),
    *,
    catalogue: bool = False,
) -> Graph:
    """DCAT 3 and VoID description of the build: ``{base}id/dataset``, one ``dcat:Distribution`` per
    dump file (download URL ``{base}dumps/{file}``, media type, byte size, SHA-256), the SPARQL
    endpoint ``{base}sparql`` as a ``dcat:DataService``, the triple count and the build id as version.
    It is also a ``dcat:Catalog`` whose ``dcat:dataset`` (and ``void:subset``) are the plans: each
    ``{base}id/dataset/plan/{slug}`` with its title, its plan (``foaf:primaryTopic``), its source, its
    triples, its named graph (an ``sd:NamedGraph`` whose ``sd:name`` is ``{base}id/graph/plan/{slug}``)
    and the distributions of its own dumps.

    It describes the dumps, so it cannot be inside them: it is written to ``void.ttl`` and loaded into
    the store's named graph ``{base}id/graph/dataset``. No blank nodes (checksums get IRIs).

    ``catalogue``: a catalogue whose plans are described apart (``plan_dataset_graph``, one plan at a
    time; the union is this graph with the plans given).
    """
    g = Graph()
    dataset = vocab.thing("dataset")
    endpoint = URIRef(vocab.base + "sparql")
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, RDF.type, VOID.Dataset))
    if title:
        g.add((dataset, DCTERMS.title, RdfLiteral(title, lang="zh")))
    # One plan is "the plan"; a corpus (no single title) is its plans.
    english = "The plan as a knowledge graph" if title else "The plans as a knowledge graph"
    g.add((dataset, DCTERMS.title, RdfLiteral(english, lang="en")))
    g.add((dataset, DCAT.version, RdfLiteral(str(info["build_id"]))))
    g.add((dataset, VOID.triples, RdfLiteral(int(str(info["triples"])), datatype=XSD.integer)))
    g.add((dataset, VOID.uriSpace, RdfLiteral(str(vocab.id))))
    g.add((dataset, VOID.vocabulary, URIRef(str(vocab.pk))))
    g.add((dataset, VOID.sparqlEndpoint, endpoint))
    g.add((dataset, DCAT.accessService, endpoint))
    g.add((endpoint, RDF.type, DCAT.DataService))
    g.add((endpoint, DCAT.endpointURL, endpoint))
    g.add((endpoint, DCAT.servesDataset, dataset))
    _distributions(g, vocab, dataset, files)
    if plans or catalogue:
        g.add((dataset, RDF.type, DCAT.Catalog))
    for plan, plan_files in plans:
        g += plan_dataset_graph(vocab, plan, plan_files)
    return g


def plan_dataset_graph(vocab: Vocab, plan: PlanDescription, plan_files: Sequence[DumpFile]) -> Graph:
    """What ``dataset_graph`` says of one plan of the catalogue: its dataset, its named graph, its
    own dumps, and the catalogue's statements naming it."""
    g = Graph()
    dataset = vocab.thing("dataset")
    endpoint = URIRef(vocab.base + "sparql")
    plan_vocab = vocab.for_plan(plan.slug)
    node = vocab.thing("dataset", "plan", plan.slug)
    graph_name = plan_vocab.plan_graph_iri()
    g.add((dataset, DCAT.dataset, node))
    g.add((dataset, VOID.subset, node))
    g.add((dataset, PROV.wasDerivedFrom, plan_vocab.source()))
    g.add((node, RDF.type, DCAT.Dataset))
    g.add((node, RDF.type, VOID.Dataset))
    g.add((node, DCTERMS.title, RdfLiteral(plan.title, lang="zh")))
    if plan.title_en:
        g.add((node, DCTERMS.title, RdfLiteral(plan.title_en, lang="en")))
    g.add((node, DCTERMS.identifier, RdfLiteral(plan.slug)))
    g.add((node, FOAF.primaryTopic, plan_vocab.plan()))
    g.add((node, DCTERMS.description, RdfLiteral(f"《{plan.title}》的知识图谱", lang="zh")))
    g.add((node, DCTERMS.description, RdfLiteral("One plan of the corpus as a knowledge graph", lang="en")))
    g.add((node, PROV.wasDerivedFrom, plan_vocab.source()))
    g.add((node, VOID.triples, RdfLiteral(plan.triples, datatype=XSD.integer)))
    g.add((node, VOID.uriSpace, RdfLiteral(str(plan_vocab.plan()) + "/")))
    g.add((node, DCAT.accessService, endpoint))
    g.add((graph_name, RDF.type, SD.NamedGraph))
    g.add((graph_name, SD.name, graph_name))
    g.add((graph_name, SD.graph, node))
    if plan.legacy_iris:
        # The IRIs the one-plan release minted right under {base}id/ (server/web/legacy.py).
        g.add((node, vocab.term("legacyIriSpace"), RdfLiteral(str(vocab.id))))
    _distributions(g, vocab, node, plan_files)
    return g


def _distributions(g: Graph, vocab: Vocab, dataset: URIRef, files: Iterable[DumpFile]) -> None:
    for f in files:
        download = URIRef(f"{vocab.base}dumps/{f.name}")
        distribution = vocab.thing("dataset", "dump", f.name)
        checksum = vocab.thing("dataset", "dump", f.name, "sha256")
        g.add((dataset, DCAT.distribution, distribution))
        if not f.gzip and f.format in RDF_FORMAT_NAMES:
            g.add((dataset, VOID.dataDump, download))
        if f.format in TABULAR_FORMATS:
            g.add((distribution, DCTERMS.conformsTo, URIRef(TABULAR_FORMATS[f.format])))
        g.add((distribution, RDF.type, DCAT.Distribution))
        g.add((distribution, DCTERMS.title, RdfLiteral(f.name)))
        g.add((distribution, DCAT.downloadURL, download))
        g.add((distribution, DCAT.accessURL, download))
        g.add((distribution, DCAT.mediaType, URIRef(IANA_MEDIA_TYPES + f.media_type)))
        if f.gzip:
            g.add((distribution, DCAT.compressFormat, URIRef(IANA_MEDIA_TYPES + GZIP_MEDIA_TYPE)))
        g.add((distribution, DCAT.byteSize, RdfLiteral(f.size, datatype=XSD.nonNegativeInteger)))
        g.add((distribution, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, RdfLiteral(f.sha256, datatype=XSD.hexBinary)))


def write_description_file(
    path: Path, iris: Iterable[str], directory: Path, prefixes: dict[str, str]
) -> DumpFile:
    """Write the dataset description, the sorted N-Triples file ``path`` (canonical order; ``iris``:
    its distinct IRIs, for the prefixes worth declaring), as Turtle to ``void.ttl``, read as it is
    written."""
    turtle = FORMATS[0]
    used = prefixes_for(iris, {**prefixes, "spdx": str(SPDX)})
    target = _CountingFile(directory / DESCRIPTION_FILE)
    try:
        triples = (q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
        ox.serialize(triples, cast(IO[bytes], target), format=turtle.rdf_format, prefixes=used)
    finally:
        target.close()
    return DumpFile(
        DESCRIPTION_FILE, turtle.name, turtle.media_type, False, target.size, target.sha256.hexdigest()
    )
