"""``plankg build``: seeds → graph → SHACL → dumps in ``dist/`` and an on-disk Oxigraph store, atomically.

Layout of the output (the contract the server reads):

* ``{store}/`` — a pyoxigraph store: the plan and the ontology (every non-shapes ``ontology/*.ttl``,
  resolved against the base: the vocabulary terms with their labels and definitions, the Data Cube
  structure definition) in the default graph, the SHACL validation report in the
  named graph ``{base}id/graph/validation`` (so warnings are queryable) and the dataset description
  (DCAT 3, VoID: distributions with sizes and SHA-256, endpoint, triple count, build id as version)
  in ``{base}id/graph/dataset``. Oxigraph keeps literals in canonical form (see ``_load_store``).
* ``{store}/plankg-build.json`` — the build record (``build_id``, source hash, inputs hash, base,
  counts). It lives inside the store directory so it is swapped in together with the store; the server
  can key its caches on ``build_id``. ``read_build_info`` reads it.
* ``{dist}/plankg.{ttl,nt,jsonld}`` (the default graph) and ``plankg.nq`` (every graph: the store's
  content except the dataset description), each also ``.gz``; ``void.ttl`` (the dataset
  description: it describes the dumps, so it cannot be inside them); ``SHA256SUMS`` (``sha256sum -c``
  format) and ``manifest.json`` (the same build record plus every file's size, media type, SHA-256).

``build_id`` is derived from the dumps' bytes, so the same inputs give the same id and every changed
output gives a new one. Nothing in the output depends on the clock or the process.

Atomicity: everything is written into hidden temporary siblings (``.store.new-…``, ``.dist.new-…``)
and renamed into place only after every stage succeeded; a failing build removes its temporaries and
leaves the previous store and dumps as they were. The two swaps are two renames each (old → backup,
new → target); if the second swap fails, the first is rolled back.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import RDF, RDFS, SKOS, Graph
from rdflib.namespace import DCTERMS
from rich.console import Console

from mapping import changes, crossrefs, dcatap, dumps, layout, tables, versions
from mapping.corpus import Seed, check_unique, find_seeds, plan_slug, read_seed, seed_text
from mapping.entities import load_catalogue
from mapping.errors import BuildError, DocumentError, Location, ValidationFailed
from mapping.graph import Heading, document_graph, plan_heading
from mapping.ingest.model import Extracted
from mapping.linksets import linkset_files
from mapping.linksets_rdf import merge_linksets
from mapping.original_rdf import original_graph
from mapping.publication import Publication
from mapping.swap import journal_path, recover_interrupted_swap
from mapping.validate import ONTOLOGY_DIR, load_ontology, validate
from mapping.vocab import ELI, Vocab

DEFAULT_SEEDS = Path("seeds")
DEFAULT_DIST = Path("dist")
DEFAULT_STORE = Path("var/store")
CACHE_DIR_NAME = "cache"  # beside the store: var/cache/plans/{key}/
SeedsArg = Path | Sequence[Path]
BUILD_INFO_FILE = "plankg-build.json"

_PACKAGE_DIR = Path(__file__).resolve().parent
_CODE_SUFFIXES = {".py", ".toml", ".ttl"}
_LIBRARIES = ("rdflib", "pyoxigraph", "pyshacl")  # their output is part of ours


def validation_graph(vocab: Vocab) -> str:
    """The IRI of the named graph holding the SHACL validation report."""
    return str(vocab.thing("graph", "validation"))


def description_graph(vocab: Vocab) -> str:
    """The IRI of the named graph holding the dataset description (DCAT, VoID)."""
    return str(vocab.thing("graph", "dataset"))


class ValidationOutcome(Protocol):
    """What the build needs from a SHACL run (``mapping.validate.ValidationResult`` has it)."""

    @property
    def conforms(self) -> bool: ...
    @property
    def violations(self) -> int: ...
    @property
    def warnings(self) -> int: ...
    @property
    def report_text(self) -> str: ...
    @property
    def report_graph(self) -> Graph: ...


GraphMaker = Callable[[str, str, Vocab], Graph]  # raw text, source file name, the plan's vocab
HeadingReader = Callable[[str, str], Heading]  # raw text, source file name
Validator = Callable[[Graph, Vocab, Path], ValidationOutcome]  # graph, vocab, ontology directory


class Progress(Protocol):
    """Where the build reports its stages and warnings."""

    def stage(self, name: str) -> AbstractContextManager[None]: ...
    def warn(self, text: str) -> None: ...


class QuietProgress:
    """Reports nothing (tests, library use)."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield

    def warn(self, text: str) -> None:
        pass


class RichProgress:
    """A spinner while a stage runs, then a line with its duration; on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            with self.console.status(f"{name} …"):
                yield
        except BaseException:
            self.console.print(f"[red]✗[/red] {name}")
            raise
        self.console.print(f"[green]✓[/green] {name} [dim]({time.perf_counter() - start:.2f} s)[/dim]")

    def warn(self, text: str) -> None:
        self.console.print("[yellow]SHACL warnings:[/yellow]")
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class BuildResult:
    """What a successful build produced."""

    build_id: str
    source_name: str  # the first plan's (the only one in a one-plan corpus)
    source_sha256: str
    inputs_sha256: str
    triples: int  # in the default graph (the plan and the ontology)
    quads: int  # in the store and the .nq dump
    warnings: int
    report_text: str
    files: tuple[dumps.DumpFile, ...]
    dist_dir: Path
    store_dir: Path
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    plans: tuple[PlanSummary, ...] = ()
    parsed: tuple[str, ...] = ()  # slugs of the plans read and validated by this build (not cached)


# --- inputs -----------------------------------------------------------------------------------------


def seeds_list(seeds: SeedsArg) -> list[Path]:
    return [seeds] if isinstance(seeds, Path) else list(seeds)


def find_source(seeds_dir: Path) -> Path:
    """The first plan text of ``seeds_dir`` (kept for callers that serve a one-plan corpus)."""
    return find_seeds([seeds_dir])[0].path


def read_source(path: Path) -> tuple[str, bytes]:
    """The text of a seed file (``mapping.corpus.seed_text``: the one place a seed becomes text)."""
    return seed_text(path)


def _hash_files(paths: list[Path], root: Path) -> list[str]:
    return [f"{p.relative_to(root).as_posix()} {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in paths]


def code_fingerprint(vocab: Vocab, ontology_dir: Path = ONTOLOGY_DIR) -> str:
    """SHA-256 over what every plan's graph depends on besides its own files: the ontology and shapes,
    the mapping code and its data files (catalogues), the base IRI and the RDF libraries' versions."""
    lines = [f"base {vocab.base}"]
    lines += [f"{name} {_version(name)}" for name in _LIBRARIES]
    if ontology_dir.is_dir():
        lines += _hash_files(sorted(ontology_dir.rglob("*.ttl")), ontology_dir)
    code = [p for p in sorted(_PACKAGE_DIR.rglob("*")) if p.is_file() and p.suffix in _CODE_SUFFIXES]
    lines += _hash_files(code, _PACKAGE_DIR)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _seed_lines(seeds: list[Seed]) -> list[str]:
    lines = []
    for seed in seeds:
        lines.append(f"source {seed.path.name} {hashlib.sha256(seed.path.read_bytes()).hexdigest()}")
        if seed.metadata.path is not None:
            lines.append(f"metadata {hashlib.sha256(seed.metadata.data).hexdigest()}")
    return lines


def inputs_fingerprint(
    seeds: SeedsArg,
    vocab: Vocab,
    ontology_dir: Path = ONTOLOGY_DIR,
    linksets_dir: Path | None = None,
    publication: Publication | None = None,
) -> str:
    """SHA-256 over what a build's output depends on: every seed text and its metadata, the linksets,
    the publication settings, the ontology and shapes, the mapping code and its data files, the base
    IRI and the versions of the RDF libraries."""
    lines = [code_fingerprint(vocab, ontology_dir), *_seed_lines(find_seeds(seeds_list(seeds)))]
    if linksets_dir is not None:
        lines += ["linksets", *_hash_files(linkset_files(linksets_dir), linksets_dir)]
    lines.append(f"publication {publication or Publication()!r}")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def read_build_info(store_dir: Path) -> dict[str, object] | None:
    """The build record of the store in ``store_dir``, or None when there is none."""
    try:
        info = json.loads((store_dir / BUILD_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def staleness(
    seeds: SeedsArg,
    dist_dir: Path,
    store_dir: Path,
    vocab: Vocab,
    ontology_dir: Path = ONTOLOGY_DIR,
    linksets_dir: Path | None = None,
    publication: Publication | None = None,
) -> str | None:
    """Why a rebuild is needed (store or dumps missing, inputs changed), or None when it is not."""
    info = read_build_info(store_dir)
    if info is None:
        return f"no built store in {store_dir}"
    try:
        manifest = json.loads((dist_dir / layout.MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"no dumps in {dist_dir}"
    if not isinstance(manifest, dict) or manifest.get("build_id") != info.get("build_id"):
        return "the store and the dumps come from different builds"
    if any(not (dist_dir / str(f["name"])).is_file() for f in manifest.get("files", [])):
        return f"dump files missing in {dist_dir}"
    if info.get("inputs_sha256") != inputs_fingerprint(seeds, vocab, ontology_dir, linksets_dir, publication):
        return (
            "seeds, linksets, publication settings, ontology, mapping code or base IRI changed since "
            "the last build"
        )
    return None


def is_stale(
    seeds: SeedsArg, dist_dir: Path, store_dir: Path, vocab: Vocab, ontology_dir: Path = ONTOLOGY_DIR
) -> bool:
    """True when ``staleness`` finds a reason to rebuild."""
    return staleness(seeds, dist_dir, store_dir, vocab, ontology_dir) is not None


# --- one plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSummary:
    """One plan of the corpus as the build record and the dataset description name it."""

    slug: str
    title: str
    title_en: str | None
    source_name: str
    source_sha256: str
    source_bytes: int
    legacy_iris: bool
    triples: int
    violations: int
    warnings: int
    report_text: str


@dataclass(frozen=True)
class PlanOutput:
    """A plan's graph (skolemised, as default-graph quads) and its SHACL report, validated."""

    summary: PlanSummary
    quads: list[ox.Quad]
    report: list[ox.Quad]
    # The text extracted from a plan published as PDF, HTML or DOCX (kept with the dumps as
    # sources/{layout.extracted_name(source_name)}); None for a .txt plan, whose text is the seed.
    extracted_text: str | None = None

    def write_sources(self, dist: Path, original: Path) -> None:
        """Keep the plan's extracted text, if it has one, and the original it was extracted from (the
        seed file ``original``) in ``dist/sources/``. Raises ``BuildError`` when the original is no
        longer the file the plan was read from."""
        if self.extracted_text is None:
            return
        directory = dist / layout.SOURCES_DIR
        directory.mkdir(exist_ok=True)
        data = original.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.summary.source_sha256:
            raise BuildError(f"{original}: changed while the build read it")
        (directory / self.summary.source_name).write_bytes(data)
        (directory / layout.extracted_name(self.summary.source_name)).write_bytes(
            self.extracted_text.encode("utf-8")
        )


def _nt(quads: Sequence[ox.Quad]) -> bytes:
    return (
        ox.serialize(
            [ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES
        )
        or b""
    )


def _from_nt(data: bytes) -> list[ox.Quad]:
    return [
        ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
        for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    ]


def _stage_name(f: object) -> str:
    """A name of a build seam that is the same in every process: its module and qualified name; for a
    ``functools.partial`` (the CLI's ``document_graph`` with ``discover``), its function's name and its
    arguments (a partial's ``repr`` holds the function's memory address, and no build hit the cache)."""
    if isinstance(f, functools.partial):
        keywords = ", ".join(f"{k}={v!r}" for k, v in sorted(f.keywords.items()))
        return f"{_stage_name(f.func)}({', '.join(repr(a) for a in f.args)}; {keywords})"
    return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"


class PlanCache:
    """Per-plan results keyed by the SHA-256 of everything they depend on: the plan's file, its metadata,
    the code fingerprint (mapping code, catalogues, ontology, shapes, base, libraries). A hit skips reading,
    mapping and validating the plan; what it gives back is the bytes a cold build would have made."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @staticmethod
    def key(code: str, data: bytes, seed: Seed, stages: Sequence[object] = ()) -> str:
        """``stages``: the functions that make the result (the build's seams), named in the key so that
        another reader or validator never takes a result the default ones made."""
        names = [_stage_name(f) for f in stages]
        lines = [
            code,
            hashlib.sha256(data).hexdigest(),
            seed.path.name,
            hashlib.sha256(seed.metadata.data).hexdigest(),
            *names,
        ]
        return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()

    def get(self, key: str) -> PlanOutput | None:
        if self.directory is None:
            return None
        entry = self.directory / "plans" / key
        try:
            summary = PlanSummary(**json.loads((entry / "plan.json").read_text(encoding="utf-8")))
            extracted = entry / "extracted.txt"
            return PlanOutput(
                summary,
                _from_nt((entry / "graph.nt").read_bytes()),
                _from_nt((entry / "report.nt").read_bytes()),
                extracted.read_bytes().decode("utf-8") if extracted.is_file() else None,
            )
        except (OSError, ValueError, TypeError, SyntaxError):
            return None

    def put(self, key: str, output: PlanOutput) -> None:
        if self.directory is None:
            return
        plans = self.directory / "plans"
        try:
            plans.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}.new-", dir=plans))
            (staging / "graph.nt").write_bytes(_nt(output.quads))
            (staging / "report.nt").write_bytes(_nt(output.report))
            if output.extracted_text is not None:
                (staging / "extracted.txt").write_bytes(output.extracted_text.encode("utf-8"))
            summary = json.dumps(output.summary.__dict__, ensure_ascii=False, sort_keys=True)
            (staging / "plan.json").write_text(summary, encoding="utf-8")
            try:
                staging.rename(plans / key)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)  # another build cached it first
        except OSError:
            return  # a cache that cannot be written only costs time


def _located(err: DocumentError, path: Path) -> DocumentError:
    """The error with the file named by the path the user gave, so `file:line:column` leads to it."""
    if err.location.source == str(path):
        return err
    where = Location(str(path), err.location.line, err.location.column, err.location.offset)
    located = (
        type(err)(err.message, where) if type(err) is DocumentError else DocumentError(err.message, where)
    )
    return located


def process_plan(
    seed: Seed,
    raw: str,
    data: bytes,
    vocab: Vocab,
    *,
    make_graph: GraphMaker,
    read_heading: HeadingReader,
    validator: Validator,
    ontology_dir: Path,
    extracted: Extracted | None = None,
) -> PlanOutput:
    """One plan, alone: its slug, its graph in its own IRI space, its SHACL report (the plan's graph
    with the ontology; plan-crossing rules, should there be any, are checked on the corpus apart).

    ``extracted``: the extraction of a plan read from a published original (``raw`` is its text); its
    source node is then the extracted text, named ``{original}.txt``, and the graph holds the
    provenance to the original (``mapping.original_rdf``)."""
    source = seed.path
    text_name = source.name if extracted is None else layout.extracted_name(source.name)
    try:
        heading = None if seed.metadata.slug else read_heading(raw, source.name)
        slug = plan_slug(seed, heading.title if heading else "", load_catalogue())
        plan_vocab = vocab.for_plan(slug)
        graph = make_graph(raw, text_name, plan_vocab)
    except DocumentError as err:
        raise _located(err, source) from err
    if extracted is not None:
        graph += original_graph(extracted, graph, plan_vocab)
    outcome = validator(graph, plan_vocab, ontology_dir)
    if outcome.violations:
        raise ValidationFailed(f"{source}: plan {slug}\n{outcome.report_text}", outcome.violations)
    skolemize = dumps.BlankNodeSkolemizer(vocab.base)
    title = graph.value(plan_vocab.plan(), ELI.title)
    quads = dumps.canonical_order(dumps.graph_quads(graph, None, skolemize))
    summary = PlanSummary(
        slug=slug,
        title=str(title) if title is not None else (heading.title if heading else slug),
        title_en=seed.metadata.title_en,
        source_name=source.name,
        source_sha256=hashlib.sha256(data).hexdigest(),
        source_bytes=len(data),
        legacy_iris=seed.metadata.legacy_iris,
        triples=len(quads),
        violations=outcome.violations,
        warnings=outcome.warnings,
        report_text=outcome.report_text,
    )
    report = dumps.canonical_order(dumps.graph_quads(outcome.report_graph, None, skolemize))
    return PlanOutput(summary, quads, report, None if extracted is None else raw)


# What the corpus-level readers (linksets' entity index, DCAT-AP coverage) look at: classes, names,
# periods and the places a plan names.
_SUBGRAPH_PREDICATES = frozenset(
    {
        str(RDF.type),
        str(SKOS.prefLabel),
        str(SKOS.altLabel),
        str(RDFS.label),
        str(DCTERMS.temporal),
        "http://www.w3.org/ns/dcat#startDate",
        "http://www.w3.org/ns/dcat#endDate",
    }
)


def _subgraph(quads: Iterable[ox.Quad], vocab: Vocab) -> Graph:
    """The part of the plans' quads the corpus-level readers need, as an rdflib graph."""
    keep = _SUBGRAPH_PREDICATES | {str(vocab.pk.mentions)}
    g = Graph()
    for q in quads:
        if q.predicate.value in keep:
            g.add((dumps.to_rdflib(q.subject), dumps.to_rdflib(q.predicate), dumps.to_rdflib(q.object)))
    return g


def _resolve_citations(
    outputs: list[PlanOutput], seeds: Sequence[Seed], vocab: Vocab, progress: Progress
) -> list[PlanOutput]:
    """A cited document that is a plan of the corpus becomes that plan's node (mapping.crossrefs); a
    circle of plans implementing each other is a warning naming each citation's file, line, column."""
    resolution = crossrefs.resolve([o.quads for o in outputs], vocab)
    resolved = [
        replace(o, quads=dumps.canonical_order(q)) for o, q in zip(outputs, resolution.quads, strict=True)
    ]
    by_plan = {str(vocab.for_plan(o.summary.slug).plan()): s for o, s in zip(outputs, seeds, strict=True)}

    def where(link: crossrefs.Link) -> str:
        seed = by_plan[link.source]
        raw, _ = seed_text(seed.path)
        return str(Location.at(str(seed.path), raw, link.start))

    for message in crossrefs.loops(crossrefs.ordering_links(resolution.quads, vocab), where):
        progress.warn(message)
    return resolved


@dataclass(frozen=True)
class NamedGraph:
    """One named graph of the corpus, made when it is needed (``quads()``: in canonical order)."""

    name: str
    size: int
    quads: Callable[[], list[ox.Quad]]


def _corpus_graphs(
    outputs: Sequence[PlanOutput], extra: Sequence[ox.Quad], vocab: Vocab
) -> tuple[list[ox.Quad], list[NamedGraph]]:
    """The corpus in canonical order (``dumps.canonical_order`` of the default graph and the named
    graphs), built without sorting it all at once and without holding every named graph: the default
    graph (the plans, which share entities, and ``extra``) sorted and deduplicated; then the named
    graphs in the order of their names, each made when asked for — a plan's graph is its quads, already
    distinct and in order, in that graph; the validation graph holds every plan's report."""
    default = dumps.canonical_order(itertools.chain((q for o in outputs for q in o.quads), extra))
    reports = dumps.canonical_order(q for o in outputs for q in _in_graph(o.report, validation_graph(vocab)))
    graphs = [NamedGraph(validation_graph(vocab), len(reports), lambda: reports)] if reports else []
    for o in outputs:
        name = str(vocab.for_plan(o.summary.slug).plan_graph_iri())
        graphs.append(NamedGraph(name, len(o.quads), functools.partial(_in_graph, o.quads, name)))
    graphs.sort(key=lambda g: str(ox.NamedNode(g.name)))  # as canonical_order sorts them: "<iri>"
    return default, graphs


def _corpus_quads(outputs: Sequence[PlanOutput], extra: Sequence[ox.Quad], vocab: Vocab) -> list[ox.Quad]:
    """Every quad of the corpus in canonical order, in one list (``_corpus_graphs``)."""
    default, graphs = _corpus_graphs(outputs, extra, vocab)
    return default + [q for g in graphs for q in g.quads()]


def _in_graph(quads: Sequence[ox.Quad], name: str | None) -> list[ox.Quad]:
    graph: ox.NamedNode | ox.DefaultGraph = ox.DefaultGraph() if name is None else ox.NamedNode(name)
    return [ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads]


# --- the build --------------------------------------------------------------------------------------


def build(
    seeds_dir: SeedsArg = DEFAULT_SEEDS,
    dist_dir: Path = DEFAULT_DIST,
    store_dir: Path = DEFAULT_STORE,
    vocab: Vocab | None = None,
    progress: Progress | None = None,
    *,
    make_graph: GraphMaker = document_graph,
    read_heading: HeadingReader = plan_heading,
    validator: Validator = validate,
    ontology_dir: Path = ONTOLOGY_DIR,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    linksets_dir: Path | None = None,
    publication: Publication | None = None,
    versions_dir: Path | None = None,
    keep_versions: int = versions.DEFAULT_KEEP,
) -> BuildResult:
    """Build the store and the dumps from every plan text in ``seeds_dir`` (one directory or several).

    Each plan is read, mapped into its own IRI space (``{base}id/plan/{slug}/…``) and validated on its
    own, or taken from the per-plan cache (``cache_dir``, default ``var/cache`` beside the store) when
    nothing it depends on changed. Raises ``DocumentError`` (with the seed file's path, line and
    column) for a malformed document or metadata file, ``ValidationFailed`` (naming the plan, node and
    rule) when SHACL finds violations, ``BuildError`` when there is no seed, two plans claim one slug
    or one text is there twice. On any failure the previous output stays untouched.

    ``versions_dir`` (default: ``versions`` beside the store's directory, ``var/versions``) keeps the
    last ``keep_versions`` builds' files (``mapping.versions``); the change set from the build now in
    ``dist_dir`` is written with the dumps (``mapping.changes``), per named graph: per plan.
    """
    vocab = vocab or Vocab()
    progress = progress or QuietProgress()
    versions_dir = versions_dir if versions_dir is not None else store_dir.parent / "versions"
    started = time.perf_counter()
    timings: dict[str, float] = {}
    cache = PlanCache((cache_dir or store_dir.parent / CACHE_DIR_NAME) if use_cache else None)

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        t = time.perf_counter()
        with progress.stage(name):
            yield
        timings[name] = time.perf_counter() - t

    recover_interrupted_swap(store_dir)  # a build killed between its swaps: back to the previous output
    temporaries: list[Path] = []
    try:
        with stage("read seeds"):
            seeds = find_seeds(seeds_list(seeds_dir))
            code = code_fingerprint(vocab, ontology_dir)
            fingerprint = inputs_fingerprint(seeds_dir, vocab, ontology_dir, linksets_dir, publication)

        outputs: list[PlanOutput] = []
        parsed: list[str] = []
        with stage(f"parse, map and validate {len(seeds)} plan(s)"):
            for seed in seeds:
                read = read_seed(seed.path)
                raw, data = read.text, read.data
                key = PlanCache.key(code, data, seed, (make_graph, read_heading, validator))
                output = cache.get(key)
                if output is None:
                    output = process_plan(
                        seed,
                        raw,
                        data,
                        vocab,
                        make_graph=make_graph,
                        read_heading=read_heading,
                        validator=validator,
                        ontology_dir=ontology_dir,
                        extracted=read.extracted,
                    )
                    cache.put(key, output)
                    parsed.append(output.summary.slug)
                outputs.append(output)
            check_unique((o.summary.slug, s) for o, s in zip(outputs, seeds, strict=True))
        with stage("resolve citations between the plans"):
            outputs = _resolve_citations(outputs, seeds, vocab, progress)
        warnings = sum(o.summary.warnings for o in outputs)
        report_text = "\n".join(o.summary.report_text for o in outputs if o.summary.warnings)
        if warnings:
            progress.warn(report_text)

        with stage("merge linksets"):
            # Researchers' links, resolved against the entities of every plan, in the default graph.
            entities = _subgraph((q for o in outputs for q in o.quads), vocab)
            linked = Graph()
            linkset_description = (
                merge_linksets(linked, vocab, linksets_dir, index_graph=entities) if linksets_dir else Graph()
            )
            linkset_quads = dumps.graph_quads(linked, None, dumps.BlankNodeSkolemizer(vocab.base))

        with stage("write dumps"):
            # The vocabulary is published with the data, in the default graph where the pages and
            # the canned queries look: a Data Cube consumer finds the structure definition, and
            # every {base}def/… term dereferences to its labels and definition. The default graph
            # is the union of the plans' graphs, materialised (docs/ARCHITECTURE.md says why).
            skolemize = dumps.BlankNodeSkolemizer(vocab.base)
            ontology = dumps.graph_quads(load_ontology(vocab, ontology_dir), None, skolemize)
            # The default graph is held; each named graph (a plan's) is made when it is written.
            default, named = _corpus_graphs(outputs, ontology + linkset_quads, vocab)
            triples = len(default)
            quad_count = triples + sum(g.size for g in named)
            new_dist = _temporary_sibling(dist_dir, temporaries)
            files = dumps.write_dumps(default, new_dist, vocab.prefixes(), graphs=(g.quads() for g in named))
            files += tables.write_tables(default, new_dist, vocab)
            for o, seed in zip(outputs, seeds, strict=True):
                o.write_sources(new_dist, seed.path)
            plan_files: dict[str, list[dumps.DumpFile]] = {}
            for o in outputs:
                slug = o.summary.slug
                plan_quads = dumps.canonical_order(
                    o.quads + _in_graph(o.quads, str(vocab.for_plan(slug).plan_graph_iri()))
                )
                plan_files[slug] = dumps.write_dumps(
                    plan_quads, new_dist, vocab.prefixes(), stem=layout.plan_stem(slug)
                )
            every_file = files + [f for fs in plan_files.values() for f in fs]
            build_id = dumps.build_id(every_file)
            graphs: dict[str, int] = {"default": triples, **{g.name: g.size for g in named}}
            first = outputs[0].summary
            violations = sum(o.summary.violations for o in outputs)
            lineage = versions.lineage(dist_dir, build_id)
            change_files = _change_set(
                lineage,
                lambda: default + [q for g in named for q in g.quads()],
                dist_dir,
                versions_dir,
                new_dist,
                vocab,
            )
            kept = versions.planned(versions_dir, lineage, keep_versions)
            info: dict[str, object] = {
                "build_id": build_id,
                "base": vocab.base,
                "inputs_sha256": fingerprint,
                "source": {
                    "name": first.source_name,
                    "sha256": first.source_sha256,
                    "bytes": first.source_bytes,
                },
                "plans": [
                    {
                        "slug": o.summary.slug,
                        "title": o.summary.title,
                        "source": o.summary.source_name,
                        "sha256": o.summary.source_sha256,
                        "triples": o.summary.triples,
                        "graph": str(vocab.for_plan(o.summary.slug).plan_graph_iri()),
                    }
                    for o in outputs
                ],
                "triples": triples,
                "quads": quad_count,
                "graphs": graphs,
                "previous_version": lineage.previous,
                "validation": {"conforms": violations == 0, "violations": violations, "warnings": warnings},
            }
            described_graph = (
                dumps.dataset_graph(
                    vocab,
                    info,
                    files,
                    first.title if len(outputs) == 1 else None,
                    plans=[(o.summary, plan_files[o.summary.slug]) for o in outputs],
                )
                + linkset_description
                + dcatap.profile_graph(
                    vocab,
                    every_file,
                    publication or Publication(),
                    dcatap.coverage(entities, vocab),
                    [
                        (
                            vocab.thing("dataset", "plan", o.summary.slug),
                            dcatap.coverage(entities, vocab, vocab.for_plan(o.summary.slug).plan()),
                        )
                        for o in outputs
                    ],
                )
            )
            described_graph += versions.description(
                vocab,
                lineage,
                kept,
                described_graph,
                versions_dir,
                {o.summary.source_name: o.summary.source_sha256 for o in outputs},
                {f.name: f.sha256 for f in every_file},
            )
            description = dumps.canonical_order(
                dumps.graph_quads(described_graph, description_graph(vocab), skolemize)
            )
            described = dumps.write_description(description, new_dist, vocab.prefixes())
            dumps.write_manifest(new_dist, [*every_file, *change_files, described], info)
            swaps = [(new_dist, dist_dir)]
            if not (versions_dir / build_id).is_dir():  # a kept version is never rewritten
                staging = _temporary_sibling(versions_dir / build_id, temporaries)
                versions.stage_archive(new_dist, staging)
                swaps.append((staging, versions_dir / build_id))

        with stage(f"load the store ({quad_count} quads)"):
            new_store = _temporary_sibling(store_dir, temporaries)
            batches = (default[i : i + _LOAD_BATCH] for i in range(0, len(default), _LOAD_BATCH))
            _load_store(new_store, itertools.chain(batches, (g.quads() for g in named), [description]))
            record = json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            (new_store / BUILD_INFO_FILE).write_bytes(record.encode("utf-8"))

        with stage("swap in"):
            _swap_in([(new_store, store_dir), *swaps])
            versions.commit(versions_dir, kept)
    finally:
        for path in temporaries:
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)

    return BuildResult(
        build_id=build_id,
        source_name=first.source_name,
        source_sha256=first.source_sha256,
        inputs_sha256=fingerprint,
        triples=triples,
        quads=quad_count,
        warnings=warnings,
        report_text=report_text,
        files=tuple(every_file),
        dist_dir=dist_dir,
        store_dir=store_dir,
        seconds=time.perf_counter() - started,
        stage_seconds=timings,
        plans=tuple(o.summary for o in outputs),
        parsed=tuple(parsed),
    )


def _change_set(
    lineage: versions.Lineage,
    corpus: Callable[[], list[ox.Quad]],
    dist_dir: Path,
    versions_dir: Path,
    new_dist: Path,
    vocab: Vocab,
) -> list[dumps.DumpFile]:
    """The change set from the previous version: an identical rebuild republishes the current one;
    otherwise the previous build's quads come from ``dist_dir`` (the build being replaced) and are
    compared with the new ones (``corpus()``: every quad, made only then)."""
    if lineage.same_as_current and all((dist_dir / n).is_file() for n in changes.CHANGE_FILES):
        return changes.carry_over(dist_dir, new_dist)
    old = None
    if lineage.previous is not None:
        for candidate in (dist_dir / "plankg.nq", versions_dir / lineage.previous / "plankg.nq.gz"):
            if candidate.is_file() and (candidate.parent != dist_dir or not lineage.same_as_current):
                old = changes.read_nquads(candidate)
                break
    previous = lineage.previous if old is not None else None
    new = corpus() if old is not None else []
    return changes.write_change_set(new_dist, vocab, lineage.build_id, new, previous, old)


def _temporary_sibling(target: Path, registry: list[Path]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    registry.append(path)
    return path


_LOAD_BATCH = 20_000  # quads per call of the bulk loader


def _load_store(path: Path, batches: Iterable[Sequence[ox.Quad]]) -> None:
    """Load the quads of ``batches`` into a new store at ``path``, one batch at a time.

    Oxigraph stores literals in canonical form: derived integer types become ``xsd:integer``
    (``oa:start`` is written ``xsd:nonNegativeInteger`` in the dumps) and lexical forms are
    normalised (``"1292.20"^^xsd:decimal`` → ``1292.2``). The dumps keep the graph as validated; the
    store holds the same quads up to that canonicalisation. Should two quads collapse into one, the
    store would lose data, and the build fails instead.
    """
    store = ox.Store(str(path))
    # In batches: Oxigraph's bulk loader holds what it is given in memory while it builds its files
    # (137k quads at once: +100 MiB, the build's peak; bench/results/*-corpus-scale.md).
    # Small batches (a plan's graph, ~2,000 quads) are gathered to _LOAD_BATCH first: a bulk load per
    # plan made the store's load three times slower (100 generated plans: 6 -> 19 s).
    given, pending = 0, list[ox.Quad]()
    for batch in batches:
        pending += batch
        given += len(batch)
        if len(pending) >= _LOAD_BATCH:
            store.bulk_extend(pending)
            pending = []
    if pending:
        store.bulk_extend(pending)
    store.flush()
    store.optimize()
    loaded = len(store)
    del store  # closes the store before its directory is renamed
    if loaded != given:
        raise BuildError(
            f"the store holds {loaded} quads, not {given}: Oxigraph's canonical literal forms made "
            'distinct literals equal (e.g. "1.0" and "1.00" as xsd:decimal)'
        )


def _swap_in(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each new directory onto its target; all or (rolling back) none.

    A journal beside the first target names every rename before the first one is made, so that a
    process killed between the swaps (the store swapped, the dumps not) is rolled back to the previous
    store and dumps by :func:`recover_interrupted_swap` at the next build or start; it is removed once
    every target is in place.
    """
    plan = []
    for new, target in pairs:
        backup = None
        if target.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            backup.rmdir()
        plan.append({"new": str(new), "target": str(target), "backup": str(backup) if backup else None})
    journal = journal_path(pairs[0][1])
    with open(journal, "w", encoding="utf-8") as f:
        json.dump(plan, f)
        f.flush()
        os.fsync(f.fileno())
    done: list[tuple[Path, Path, Path | None]] = []  # (new, target, backup of the old target)
    try:
        for step in plan:
            new, target = Path(step["new"]), Path(step["target"])  # type: ignore[arg-type]
            backup = Path(step["backup"]) if step["backup"] else None
            if backup is not None:
                target.rename(backup)
            try:
                new.rename(target)
            except BaseException:
                if backup is not None:
                    backup.rename(target)
                raise
            done.append((new, target, backup))
    except BaseException:
        for new, target, backup in reversed(done):
            target.rename(new)  # the caller removes `new` with the other temporaries
            if backup is not None:
                backup.rename(target)
        journal.unlink(missing_ok=True)
        raise
    journal.unlink()
    for _, _, backup in done:
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
