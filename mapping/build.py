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

import dataclasses
import functools
import hashlib
import heapq
import itertools
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node
from rich.console import Console

from mapping import (
    changes,
    chunks,
    crossrefs,
    dcatap,
    dumps,
    incremental,
    layout,
    memory,
    prune,
    resolved,
    spill,
    tables,
    versions,
)
from mapping.corpus import Seed, check_unique, find_seeds, plan_slug, read_seed, seed_text
from mapping.entities import load_catalogue
from mapping.errors import BuildError, DocumentError, Location, ValidationFailed
from mapping.graph import Heading, document_graph, plan_heading
from mapping.ingest.model import Extracted
from mapping.linksets import EntityIndex, linkset_files
from mapping.linksets_rdf import ENTITY_CLASSES, NAME_PROPERTIES, merge_linksets
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
            with memory.measured() as peak, self.console.status(f"{name} …"):
                yield
        except BaseException:
            self.console.print(f"[red]✗[/red] {name}")
            raise
        self.console.print(
            f"[green]✓[/green] {name} [dim]({time.perf_counter() - start:.2f} s{_peak_text(peak)})[/dim]",
            soft_wrap=True,  # one line, however narrow the console: bench.corpus reads it
        )

    def warn(self, text: str) -> None:
        self.console.print("[yellow]SHACL warnings:[/yellow]")
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)


def _peak_text(peak: memory.StagePeak) -> str:
    """``, peak 123.4 MiB, workers 234.5 MiB`` (what is known of the stage's memory; bench.corpus
    reads it)."""
    text = "" if peak.process is None else f", peak {peak.process} MiB"
    return text + ("" if peak.children is None else f", workers {peak.children} MiB")


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
    stage_memory: dict[str, memory.StagePeak] = field(default_factory=dict)  # peak RSS per stage
    plans: tuple[PlanSummary, ...] = ()
    parsed: tuple[str, ...] = ()  # slugs of the plans read and validated by this build (not cached)
    # What the corpus-wide stages did anew (mapping.resolved, mapping.chunks, mapping.incremental):
    resolved: tuple[str, ...] = ()  # slugs whose citations were resolved and graph spilled anew
    chunk_owners: tuple[str, ...] = ()  # owners of the dump chunks serialised anew ("": no plan's)
    store_delta: tuple[int, int] | None = None  # quads added to, removed from the previous store
    table_rows: dict[str, int] | None = None  # rows read again per table; None: every table read whole
    pruned: prune.Pruned | None = None  # cache entries removed after the swap (None: no cache)
    described: tuple[str, ...] = ()  # slugs whose description was made anew (not from the cache)


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
        return read_entry(self.directory / "plans" / key)

    def entry(self, key: str) -> Path | None:
        """The directory of a cached plan (``write_entry``'s layout), None when there is none."""
        if self.directory is None:
            return None
        entry = self.directory / "plans" / key
        return entry if (entry / "plan.json").is_file() else None

    def put(self, key: str, output: PlanOutput, record: dict[str, object] | None = None) -> Path | None:
        """Cache ``output``; its directory, or None when the cache is off or cannot be written."""
        if self.directory is None:
            return None
        plans = self.directory / "plans"
        try:
            plans.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}.new-", dir=plans))
            write_entry(staging, output, record)
            try:
                staging.rename(plans / key)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)  # another build cached it first
            return self.entry(key)
        except OSError:
            return None  # a cache that cannot be written only costs time


def write_entry(directory: Path, output: PlanOutput, record: dict[str, object] | None = None) -> None:
    """A plan's results as files in ``directory``: its graph and its SHACL report as N-Triples in
    canonical order, its extracted text if any, its summary (the per-plan cache's entry, and what a
    build reads the plan back from); ``record``: what the build keeps of it (``PlanRecord``'s plan
    IRIs and matching keys, ``record.json``), so that a cache hit need not read its graph."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "graph.nt").write_bytes(_nt(output.quads))
    (directory / "report.nt").write_bytes(_nt(output.report))
    if output.extracted_text is not None:
        (directory / "extracted.txt").write_bytes(output.extracted_text.encode("utf-8"))
    if record is not None:
        (directory / RECORD_FILE).write_text(json.dumps(record, ensure_ascii=False, sort_keys=True), "utf-8")
    summary = json.dumps(output.summary.__dict__, ensure_ascii=False, sort_keys=True)
    (directory / "plan.json").write_text(summary, encoding="utf-8")  # last: the entry is whole


RECORD_FILE = "record.json"


def read_record(
    entry: Path,
) -> tuple[PlanSummary, tuple[str, ...], dict[str, str], dict[str, str]] | None:
    """The summary, plan IRIs and matching keys ``write_entry`` kept in ``entry``; None when it has
    no record (the build then reads its graph)."""
    try:
        summary = PlanSummary(**json.loads((entry / "plan.json").read_text(encoding="utf-8")))
        record = json.loads((entry / RECORD_FILE).read_text(encoding="utf-8"))
        return summary, tuple(record["plan_iris"]), dict(record["keys"]), dict(record["stubs"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def read_entry(entry: Path) -> PlanOutput | None:
    """The plan ``write_entry`` wrote into ``entry``; None when it is not there or not whole."""
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


# --- the plans, one at a time -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRecord:
    """What the build keeps of a plan once it is read: its summary, where its results are (a cache
    entry or the build's staging directory: ``write_entry``'s files) and the little the citations
    between plans are resolved with."""

    summary: PlanSummary
    entry: Path
    parsed: bool  # read, mapped and validated by this build (not cached)
    key: str  # its per-plan cache key (PlanCache.key)
    plan_iris: tuple[str, ...]  # the nodes it types pk:Plan
    keys: dict[str, str]  # its plans' matching keys (crossrefs.plan_keys)
    stubs: dict[str, str]  # its cited-document stubs' matching keys (crossrefs.stub_keys)


@dataclass(frozen=True)
class PlanFacts:
    """What the corpus-level stages need of a plan once its citations are resolved and its graph is
    spilled: its graph's size, its own dump files, the entities a linkset may name (with their names),
    its coverage (years of its periods, what its plan node mentions, the administrative divisions it
    types) and its implements/based_on citations."""

    size: int
    files: tuple[dumps.DumpFile, ...]
    typed: tuple[str, ...]
    names: dict[str, tuple[str, ...]]
    years: tuple[int, ...]
    mentions: tuple[str, ...]
    divisions: tuple[str, ...]
    links: tuple[crossrefs.Link, ...]
    resolved: bool = True  # resolved and spilled by this build (not taken from the resolved cache)


def facts_path(work: Path, index: int) -> Path:
    """Where the build keeps plan ``index``'s ``PlanFacts`` (``resolved.facts_json``) once its citations
    are resolved: the corpus-level stages read them from there, one plan at a time."""
    return work / f"{index}.facts.json"


@dataclass(frozen=True)
class PlanKept:
    """What the build holds of a plan from its citations on: where the rest is (its entry's summary,
    its facts file) and its graph's size. Everything else is read back one plan at a time where a
    stage needs it (``_summaries``, ``_plan_facts``), so that the corpus-level stages (the store's
    load, the tables, the description) hold no plan's summary, dump files or facts for the whole
    build (issue 8 point 5: memory that grew ~36 KB a plan)."""

    slug: str
    entry: Path  # write_entry's files: plan.json (the summary), graph.nt, report.nt
    facts: Path  # facts_path: the plan's PlanFacts as JSON
    brief: Path  # the same without the entities, names and links (what most stages read: ~1 KB)
    size: int  # triples of its graph
    resolved: bool  # resolved and spilled by this build (not taken from the resolved cache)
    source_name: str
    source_sha256: str


def _summary(entry: Path) -> PlanSummary:
    return PlanSummary(**json.loads((entry / "plan.json").read_text(encoding="utf-8")))


def _summaries(kept: Iterable[PlanKept]) -> Iterator[PlanSummary]:
    """The plans' summaries, read back from their entries one at a time."""
    return (_summary(k.entry) for k in kept)


def _plan_facts(kept: Iterable[PlanKept], *, brief: bool = True) -> Iterator[PlanFacts]:
    """The plans' facts, read back from their files one at a time: ``brief``, without the entities,
    their names and the citations (``PlanKept.brief``), which only the linksets' index reads."""
    for k in kept:
        data = (k.brief if brief else k.facts).read_bytes()
        yield PlanFacts(**resolved.facts_fields(data), resolved=k.resolved)  # type: ignore[arg-type]


def _brief(facts: PlanFacts) -> bytes:
    """``PlanKept.brief``'s bytes."""
    return resolved.facts_json(dataclasses.replace(facts, typed=(), names={}, links=(), resolved=True))


def _plan_files(kept: Sequence[PlanKept]) -> Iterator[dumps.DumpFile]:
    """Every plan's own dump files, by name (a plan's files all start ``plan-{slug}.``, so the plans
    in the order of ``{slug}.`` give them in name order), read back one plan at a time."""
    for f in _plan_facts(sorted(kept, key=lambda k: k.slug + ".")):
        yield from sorted(f.files, key=lambda d: d.name)


def _by_name(*files: Iterable[dumps.DumpFile]) -> Iterator[dumps.DumpFile]:
    """The files of iterables each in name order, merged in name order."""
    return heapq.merge(*files, key=lambda f: f.name)


@dataclass(frozen=True)
class PlanJob:
    """The per-plan work of a build (read, map, validate or take from the cache; then resolve the
    citations, spill the graph, write the plan's own dumps), run in this process or in a worker of a
    pool forked with it (``_in_pool``)."""

    seeds: tuple[Seed, ...]
    vocab: Vocab
    code: str
    cache: PlanCache
    work: Path  # the build's staging directory: spilled graphs, entries of uncached plans
    dist: Path  # the new dumps' directory
    make_graph: GraphMaker
    read_heading: HeadingReader
    validator: Validator
    ontology_dir: Path
    resolved_cache: resolved.ResolvedCache

    def read(self, index: int) -> PlanRecord:
        seed = self.seeds[index]
        read = read_seed(seed.path)
        key = PlanCache.key(self.code, read.data, seed, (self.make_graph, self.read_heading, self.validator))
        entry = self.cache.entry(key)
        known = read_record(entry) if entry is not None else None
        if entry is not None and known is not None:  # a hit: the entry says all the build needs
            summary, plan_iris, keys, stubs = known
            return PlanRecord(summary, entry, False, key, plan_iris, keys, stubs)
        output = None if entry is None else read_entry(entry)
        parsed = output is None
        if output is None:
            output = process_plan(
                seed,
                read.text,
                read.data,
                self.vocab,
                make_graph=self.make_graph,
                read_heading=self.read_heading,
                validator=self.validator,
                ontology_dir=self.ontology_dir,
                extracted=read.extracted,
            )
        pk_plan = ox.NamedNode(str(self.vocab.pk) + "Plan")
        plan_iris = tuple(
            sorted({_term(q.subject) for q in output.quads if q.predicate == _TYPE and q.object == pk_plan})
        )
        keys, stubs = (
            crossrefs.plan_keys(output.quads, self.vocab),
            crossrefs.stub_keys(output.quads, self.vocab),
        )
        record: dict[str, object] = {"plan_iris": list(plan_iris), "keys": keys, "stubs": stubs}
        if parsed:
            entry = self.cache.put(key, output, record)
        if entry is None:  # no cache (or one that cannot be written): the build's own copy
            entry = self.work / "plans" / str(index)
            write_entry(entry, output, record)
        return PlanRecord(output.summary, entry, parsed, key, plan_iris, keys, stubs)

    def spill(self, index: int, record: PlanRecord, swap: dict[str, str]) -> PlanFacts:
        """The plan's quads with its citations of other plans resolved (``swap``), spilled in canonical
        order to ``{work}/{index}.nt`` (its IRIs to ``{index}.iris``), its own dumps and sources written;
        or all of it linked from the resolved-plan cache (``mapping.resolved``) when neither the plan
        nor its ``swap`` changed."""
        slug = record.summary.slug
        spilled, iris = self.work / f"{index}.nt", self.work / f"{index}.iris"
        resolved_key = resolved.key(record.key, swap)
        kept = self.resolved_cache.take(resolved_key, spilled, iris, self.dist)
        extracted = record.entry / "extracted.txt"
        if extracted.is_file():
            output = PlanOutput(record.summary, [], [], extracted.read_bytes().decode("utf-8"))
            output.write_sources(self.dist, self.seeds[index].path)
        if kept is not None:
            facts_path(self.work, index).write_bytes(kept)
            return PlanFacts(**resolved.facts_fields(kept), resolved=False)  # type: ignore[arg-type]
        quads = _from_nt((record.entry / "graph.nt").read_bytes())
        if swap:
            quads = dumps.canonical_order(crossrefs.swapped(quads, swap))
        spill.write_sorted(spilled, quads)
        spill.write_iris(iris, spill.iris(quads))
        graph = str(self.vocab.for_plan(slug).plan_graph_iri())
        files = dumps.write_dumps(
            quads + _in_graph(quads, graph), self.dist, self.vocab.prefixes(), stem=layout.plan_stem(slug)
        )
        facts = _facts(quads, self.vocab, str(self.vocab.for_plan(slug).plan()), len(quads), tuple(files))
        data = resolved.facts_json(facts)
        facts_path(self.work, index).write_bytes(data)
        self.resolved_cache.put(resolved_key, spilled, iris, [self.dist / f.name for f in files], data)
        return facts


_TYPE = ox.NamedNode(str(RDF.type))


def _term(term: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
    return term.value if isinstance(term, (ox.NamedNode, ox.BlankNode)) else str(term)


_NAMES = frozenset(str(p) for p in NAME_PROPERTIES)


def _facts(
    quads: Sequence[ox.Quad], vocab: Vocab, plan: str, size: int, files: tuple[dumps.DumpFile, ...]
) -> PlanFacts:
    """``PlanFacts`` of one plan's (resolved) quads. Names are kept for the entities the plan types and
    for every node outside the plan's IRI space (catalogued entities another plan may type), so that
    the union over the plans is what the whole corpus's graph would give."""
    pk = str(vocab.pk)
    classes = {pk + c for c in ENTITY_CLASSES}
    typed: set[str] = set()
    divisions: set[str] = set()
    names: dict[str, set[str]] = {}
    mentions: list[str] = []
    periods: list[str] = []
    dates: dict[str, list[str]] = {}
    temporal, mention = str(DCTERMS.temporal), str(vocab.pk.mentions)
    for q in quads:
        s, p, o = _term(q.subject), q.predicate.value, q.object
        if p == _TYPE.value and isinstance(o, ox.NamedNode):
            if o.value in classes:
                typed.add(s)
            if o.value == pk + "AdministrativeDivision":
                divisions.add(s)
        elif p in _NAMES and isinstance(o, (ox.NamedNode, ox.Literal)):
            names.setdefault(s, set()).add(o.value)
        elif p == mention and s == plan and isinstance(o, ox.NamedNode):
            mentions.append(o.value)
        elif p == temporal and s == plan and isinstance(o, (ox.NamedNode, ox.Literal)):
            periods.append(o.value)
        elif p in _DATES and isinstance(o, ox.Literal):
            dates.setdefault(s, []).append(o.value)
    return PlanFacts(
        size=size,
        files=files,
        typed=tuple(sorted(typed)),
        names={
            iri: tuple(sorted(v))
            for iri, v in names.items()
            if iri in typed or not (iri == plan or iri.startswith(plan + "/"))
        },
        years=tuple(int(v[:4]) for period in periods for v in dates.get(period, [])),
        mentions=tuple(mentions),
        divisions=tuple(sorted(divisions)),
        links=tuple(crossrefs.citation_links(quads, vocab)),
    )


_DATES = frozenset({"http://www.w3.org/ns/dcat#startDate", "http://www.w3.org/ns/dcat#endDate"})


DESCRIBED_DIR = "described"  # in the cache: a plan's description, {cache}/described/{key}/


@dataclass(frozen=True)
class PlanDescribed:
    """A plan's description as files (``_describe_plan``): its statements sorted as N-Triples with
    their IRIs, and the catalogue's statements naming it."""

    entry: Path
    made: bool  # described by this build (not taken from the cache)

    @property
    def part(self) -> Path:
        return self.entry / "part.nt"

    @property
    def iris(self) -> Path:
        return self.entry / "part.iris"

    @property
    def catalogue(self) -> Path:
        return self.entry / "catalogue.nt"


def _describe_plan(
    vocab: Vocab, publication: Publication, k: PlanKept, places: set[str], code: str, directory: Path
) -> tuple[str, PlanDescribed]:
    """One plan's description (``dumps.plan_dataset_graph``, ``dcatap.plan_profile_graph``), or the
    one kept in ``directory/described/{key}/`` when nothing it says changed: ``key`` is the SHA-256 of
    the code fingerprint (base IRI, mapping code), the plan's summary and facts (its dump files, its
    years) as written, the publication settings and its places (``_coverage``). Its key and its files."""
    summary_data, facts_data = (k.entry / "plan.json").read_bytes(), k.brief.read_bytes()
    facts = PlanFacts(**resolved.facts_fields(facts_data))  # type: ignore[arg-type]
    covered = _coverage([facts], places)
    lines = [
        code,
        hashlib.sha256(summary_data).hexdigest(),
        hashlib.sha256(facts_data).hexdigest(),
        repr(publication),
        *(str(place) for place in covered.places),
    ]
    key = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    entry = directory / DESCRIBED_DIR / key
    if (entry / "catalogue.nt").is_file():
        return key, PlanDescribed(entry, False)
    summary = PlanSummary(**json.loads(summary_data))
    node = vocab.thing("dataset", "plan", summary.slug)
    part = dumps.plan_dataset_graph(vocab, summary, facts.files)
    part += dcatap.plan_profile_graph(vocab, facts.files, publication, node, covered)
    dataset = vocab.thing("dataset")
    catalogue = [
        ox.Triple(dumps.to_oxigraph(s), dumps.to_oxigraph(p), dumps.to_oxigraph(o))  # type: ignore[arg-type]
        for s, p, o in sorted(part.triples((dataset, None, None)))
    ]
    part.remove((dataset, None, None))
    quads = dumps.canonical_order(dumps.graph_quads(part, None, dumps.BlankNodeSkolemizer(vocab.base)))
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}.new-", dir=entry.parent))
    spill.write_sorted(staging / "part.nt", quads)
    spill.write_iris(staging / "part.iris", spill.iris(quads))
    (staging / "catalogue.nt").write_bytes(ox.serialize(catalogue, format=ox.RdfFormat.N_TRIPLES) or b"")
    try:
        staging.rename(entry)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another build described it first
    return key, PlanDescribed(entry, True)


def _describe_plans(
    vocab: Vocab,
    publication: Publication,
    kept: Sequence[PlanKept],
    places: set[str],
    catalogue: spill.Runs,
    build_id: str,
    code: str,
    directory: Path,
    journal: prune.Journal | None,
    nodes: bool,
) -> tuple[list[PlanDescribed], set[Node]]:
    """The description of each plan (``_describe_plan``: made, or kept from an earlier build in
    ``directory``, the cache or the build's staging directory), one plan at a time, as sorted files
    (``spill.merged`` makes the description's canonical order of them); the statements about the
    catalogue itself (``{base}id/dataset dcat:dataset`` each plan's …), and what the current version
    ``build_id`` inherits of them (``versions.inherited_by_current``), go to the sorted runs
    ``catalogue``: none is held for all plans (the versions' description reads the rest of the
    description, ``versions.description``). With ``nodes``, also the nodes the plans' descriptions
    describe (a kept version's description stops at them; only a kept version other than the current
    one needs them)."""
    spilled = []
    described: set[Node] = set()
    for k in kept:
        key, made = _describe_plan(vocab, publication, k, places, code, directory)
        if journal is not None:
            journal.used(f"{DESCRIBED_DIR}/{key}")
        statements = [
            (dumps.to_rdflib(t.subject), dumps.to_rdflib(t.predicate), dumps.to_rdflib(t.object))
            for t in ox.parse(path=str(made.catalogue), format=ox.RdfFormat.N_TRIPLES)
        ]
        for statement in (*statements, *versions.inherited_by_current(vocab, build_id, statements)):
            catalogue.add(_triple(statement))
        if nodes:
            for line in spill.read_lines(made.part):
                described.add(URIRef(line[1 : line.find(b" ") - 1].decode("utf-8")))
        spilled.append(made)
    return spilled, described


def _triple(statement: tuple[Node, Node, Node]) -> ox.Triple:
    """An rdflib statement (no blank nodes) as a pyoxigraph triple."""
    s, p, o = statement
    subject, predicate = dumps.to_oxigraph(s), dumps.to_oxigraph(p)
    if not isinstance(subject, ox.NamedNode) or not isinstance(predicate, ox.NamedNode):
        raise TypeError(f"not a statement of the description: {statement!r}")
    return ox.Triple(subject, predicate, dumps.to_oxigraph(o))


def _entity_index(kept: Sequence[PlanKept], vocab: Vocab) -> EntityIndex:
    """The linksets' entity index of the corpus (``linksets_rdf.entity_index`` of the whole graph),
    from the plans' facts read back one at a time: the typed entities, and every named IRI's names
    (distinct IRIs), kept for the typed ones."""
    iris: set[str] = set()
    named: dict[str, set[str]] = {}
    for f in _plan_facts(kept, brief=False):
        iris.update(f.typed)
        for iri, given in f.names.items():
            named.setdefault(iri, set()).update(given)
    names: dict[str, set[str]] = {}
    for iri, found in named.items():
        if iri in iris:
            for label in found:
                names.setdefault(label, set()).add(iri)
    return EntityIndex(vocab.base, frozenset(iris), {k: frozenset(v) for k, v in names.items()})


def _coverage(facts: Iterable[PlanFacts], places: set[str]) -> dcatap.Coverage:
    """``dcatap.coverage`` of the plans of ``facts`` (``places``: what the corpus's plans mention and
    some plan types as an administrative division, ``_places``)."""
    first = last = None
    found: set[URIRef] = set()
    for f in facts:
        if f.years:
            first = min(f.years) if first is None else min(first, *f.years)
            last = max(f.years) if last is None else max(last, *f.years)
        found.update(URIRef(m) for m in f.mentions if m in places)
    return dcatap.Coverage(first, last, tuple(sorted(found)))


def _places(kept: Sequence[PlanKept], mentioned: set[str]) -> set[str]:
    """Of the IRIs ``mentioned`` by the plans' nodes, those a plan of the corpus types as an
    administrative division (the corpus's divisions are not held: read back one plan at a time)."""
    return {d for f in _plan_facts(kept) for d in f.divisions if d in mentioned}


def _in_pool(jobs: int, count: int) -> bool:
    return jobs > 1 and count > 1


def _run(
    job: PlanJob, method: Callable[..., object], calls: Sequence[tuple[object, ...]], jobs: int
) -> Iterator[object]:
    """``method(*call)`` for each call, in order: here, or in ``jobs`` worker processes forked from
    this one (``job`` reaches them by the fork, not pickled: a test's seams may be closures). The
    results come back in the calls' order whatever the workers' timing; the first call that failed
    (in that order) raises its error, as a build in one process would."""
    if not _in_pool(jobs, len(calls)):
        for call in calls:
            yield method(job, *call)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(calls)), mp_context=context, initializer=_adopt, initargs=(job,)
    ) as pool:
        futures: list[Future[object] | None] = [pool.submit(_call, method.__name__, call) for call in calls]
        try:
            for i, future in enumerate(futures):
                assert future is not None
                futures[i] = None  # its result is the caller's from now on: not held to the end here
                yield future.result()
        finally:
            for left in futures:
                if left is not None:
                    left.cancel()


_WORKER: list[PlanJob] = []  # in a worker process of ``_run`` only: the job it was forked with


def _adopt(job: PlanJob) -> None:
    _WORKER[:] = [job]


def _call(method: str, call: tuple[object, ...]) -> object:
    return getattr(_WORKER[0], method)(*call)


def default_jobs() -> int:
    """The build's worker processes by default: the cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


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
    jobs: int = 1,
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

    The plans are streamed: each one's graph is spilled to a sorted file in a staging directory as soon
    as it is done, and the corpus's dumps, store, tables and change set are made by merging and reading
    those files (``mapping.spill``), so the build holds one plan's quads at a time (per worker) and a
    small record of each plan. ``jobs``: worker processes for the per-plan work (1: all in this
    process); the output is the same bytes whatever it is.
    """
    vocab = vocab or Vocab()
    progress = progress or QuietProgress()
    versions_dir = versions_dir if versions_dir is not None else store_dir.parent / "versions"
    started = time.perf_counter()
    began = time.time()  # cache leftovers older than this are no running build's (mapping.prune)
    timings: dict[str, float] = {}
    peaks: dict[str, memory.StagePeak] = {}
    cache = PlanCache((cache_dir or store_dir.parent / CACHE_DIR_NAME) if use_cache else None)
    chunk_counts = chunks.Counts()
    table_counts = incremental.TableCounts()

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        t = time.perf_counter()
        with memory.measured() as peak, progress.stage(name):
            yield
        timings[name] = time.perf_counter() - t
        peaks[name] = peak

    recover_interrupted_swap(store_dir)  # a build killed between its swaps: back to the previous output
    temporaries: list[Path] = []
    try:
        with stage("read seeds"):
            seeds = find_seeds(seeds_list(seeds_dir))
            code = code_fingerprint(vocab, ontology_dir)
            fingerprint = inputs_fingerprint(seeds_dir, vocab, ontology_dir, linksets_dir, publication)

        new_dist = _temporary_sibling(dist_dir, temporaries)
        work = _temporary_sibling(store_dir.parent / "build", temporaries)
        # The cache entries this build uses, read or written: what is left after it (mapping.prune).
        journal = prune.Journal(work / "cache-used") if cache.directory is not None else None
        job = PlanJob(
            tuple(seeds),
            vocab,
            code,
            cache,
            work,
            new_dist,
            make_graph,
            read_heading,
            validator,
            ontology_dir,
            resolved.ResolvedCache(cache.directory),
        )
        records: list[PlanRecord] = []
        with stage(f"parse, map and validate {len(seeds)} plan(s)"):
            for record in _run(job, PlanJob.read, [(i,) for i in range(len(seeds))], jobs):
                assert isinstance(record, PlanRecord)
                records.append(record)
                if journal is not None:
                    journal.used(f"plans/{record.key}")
            check_unique((r.summary.slug, s) for r, s in zip(records, seeds, strict=True))
        parsed = [r.summary.slug for r in records if r.parsed]
        first = records[0].summary
        violations = sum(r.summary.violations for r in records)
        warnings = sum(r.summary.warnings for r in records)
        report_text = "\n".join(r.summary.report_text for r in records if r.summary.warnings)
        reports_text = work / "warnings.txt"  # read back for the result: not held through the build
        reports_text.write_text(report_text, encoding="utf-8")

        # From here on the build holds of each plan only its PlanKept; its facts are in its file.
        kept: list[PlanKept] = []
        mentioned: set[str] = set()
        with stage("resolve citations between the plans"):
            # A cited document that is a plan of the corpus becomes that plan's node (mapping.crossrefs),
            # from the plans' matching keys alone; each plan is then read back, resolved and spilled.
            by_key: dict[str, str] = {}
            for r in records:
                for plan, key in r.keys.items():
                    by_key.setdefault(key, plan)
            calls = [(i, r, crossrefs.swaps(r.keys, r.stubs, by_key)) for i, r in enumerate(records)]
            del by_key
            if journal is not None:
                journal.used(*(f"resolved/{resolved.key(r.key, swap)}" for _, r, swap in calls))
            corpus_plans = {iri for r in records for iri in r.plan_iris}
            links: list[crossrefs.Link] = []  # citations of plans of the corpus (for the loops)
            for i, fact in enumerate(_run(job, PlanJob.spill, calls, jobs)):
                assert isinstance(fact, PlanFacts)
                r = records[i]
                links += [link for link in fact.links if link.target in corpus_plans]
                mentioned.update(fact.mentions)
                brief = facts_path(work, i).with_suffix(".brief.json")
                brief.write_bytes(_brief(fact))
                kept.append(
                    PlanKept(
                        r.summary.slug,
                        r.entry,
                        facts_path(work, i),
                        brief,
                        fact.size,
                        fact.resolved,
                        r.summary.source_name,
                        r.summary.source_sha256,
                    )
                )
                del fact
            del calls
            _warn_loops(links, records, seeds, progress)
            del records, r, record, links, corpus_plans  # the loops' last record too
            places = _places(kept, mentioned)
            del mentioned
        if warnings:
            progress.warn(report_text)
        del report_text

        with stage("merge linksets"):
            # Researchers' links, resolved against the entities of every plan, in the default graph.
            linked = Graph()
            linkset_description = (
                merge_linksets(linked, vocab, linksets_dir, index=_entity_index(kept, vocab))
                if linksets_dir
                else Graph()
            )
            linkset_quads = dumps.graph_quads(linked, None, dumps.BlankNodeSkolemizer(vocab.base))

        with stage("write dumps"):
            # The vocabulary is published with the data, in the default graph where the pages and
            # the canned queries look: a Data Cube consumer finds the structure definition, and
            # every {base}def/… term dereferences to its labels and definition. The default graph
            # is the union of the plans' graphs, materialised (docs/ARCHITECTURE.md says why): the
            # merge of the plans' spilled files, never held.
            skolemize = dumps.BlankNodeSkolemizer(vocab.base)
            ontology = dumps.graph_quads(load_ontology(vocab, ontology_dir), None, skolemize)
            extra = dumps.canonical_order(ontology + linkset_quads)
            spilled = [work / f"{i}.nt" for i in range(len(kept))]
            validation = validation_graph(vocab)
            reports = [k.entry / "report.nt" for k in kept]
            named: list[tuple[str, Callable[[], Iterator[bytes]]]] = [
                (validation, lambda: spill.in_graph(spill.merged(reports, work=work), validation))
            ]
            for i, k in enumerate(kept):
                name = str(vocab.for_plan(k.slug).plan_graph_iri())
                named.append((name, functools.partial(_graph_lines, spilled[i], name)))
            named.sort(key=lambda g: str(ox.NamedNode(g[0])))  # as canonical_order sorts them: "<iri>"
            report_count = [0]
            files, triples = chunks.write_corpus_dumps(
                new_dist,
                vocab.prefixes(),
                spill.merged(spilled, spill.nt_bytes(extra).splitlines(keepends=True), work),
                itertools.chain.from_iterable(
                    _counted(lines(), report_count) if name == validation else lines()
                    for name, lines in named
                ),
                spill.merged_iris([work / f"{i}.iris" for i, _ in enumerate(kept)], spill.iris(extra), work),
                str(vocab.thing("plan")) + "/",
                chunks.ChunkCache(cache.directory, chunk_counts, journal),
            )
            sizes = {str(vocab.for_plan(k.slug).plan_graph_iri()): k.size for k in kept}
            graphs: dict[str, int] = {"default": triples}
            for name, _ in named:
                if name != validation:
                    graphs[name] = sizes[name]
                elif report_count[0]:
                    graphs[name] = report_count[0]
            quad_count = sum(graphs.values())

        # A rebuild starts from the previous build where it is whole (mapping.incremental): the store
        # updated by the two dumps' difference, the tables' changed rows, the change set's subjects.
        nquads = next(f for f in files if f.name == "plankg.nq")
        incremental.save_index(cache.directory, nquads, chunk_counts.nquads)
        if journal is not None:
            journal.used(incremental.index_path(Path(), nquads.sha256).as_posix())
        previous = incremental.previous_build(
            dist_dir, store_dir, cache.directory, read_build_info(store_dir), vocab.base
        )
        change = None
        if previous is not None:
            change = incremental.delta(previous, new_dist / "plankg.nq", chunk_counts.nquads)
        loading = (
            f"update the store (+{len(change.added)} -{len(change.removed)} of {quad_count} quads)"
            if change is not None
            else f"load the store ({quad_count} quads)"
        )
        with stage(loading):
            new_store = _temporary_sibling(store_dir, temporaries)
            updated = None
            if previous is not None and change is not None:
                try:  # the checkpoint makes its own directory
                    updated = incremental.updated_store(
                        previous, new_store / "store", change, description_graph(vocab)
                    )
                except OSError as err:  # the previous store cannot be read: load the dump whole
                    progress.warn(f"the previous store cannot be updated ({err}): loading the dump whole")
                    shutil.rmtree(new_store / "store", ignore_errors=True)
            was_updated = updated is not None
            if updated is not None:
                store, loaded, new_store = updated, quad_count, new_store / "store"
            else:
                store = _open_store(new_store)
                loaded = _load(store, changes.stream_nquads(new_dist / "plankg.nq"))
                # Compacted now, before the tables read the whole store: the bulk loader leaves a set
                # of files per batch, and the store keeps each file's index and filter in memory
                # once read (reading every quad of 300 plans: +58 MiB from 69 files, +36 MiB from the
                # 15 compacted ones). Compacted again once the description is in (_close_store).
                _compact(store)
            del updated  # the store is closed where it is deleted (not held here too)
            # Closed here and opened anew by each stage that reads it (the tables; the description's
            # load and the closing count), so that what one stage made the store hold (the
            # compaction's or the update's buffers, the blocks and file indexes the tables read) is
            # not held under the next: the reading memory of each stage alone, as the store's own
            # needs measure it.
            del store

        with stage("write tables and the description"):
            table_files = None
            if previous is not None and change is not None:
                store = _open_store(new_store)
                table_files = incremental.write_tables(
                    store,
                    new_dist,
                    vocab,
                    previous.dist_dir,
                    change.subjects(default_only=True),
                    table_counts,
                )
                del store  # the tables' reading memory is not held under the description's load
            tables_updated = table_files is not None
            if table_files is None:  # each table read from the store opened anew (tables.write_tables)
                table_files = tables.write_tables(
                    functools.partial(_open_store, new_store), new_dist, vocab, work
                )
            files += table_files
            corpus_files = sorted(files, key=lambda f: f.name)
            # Every file (the corpus's, and each plan's read back from its facts) in name order.
            build_id = dumps.build_id(_by_name(corpus_files, _plan_files(kept)), in_order=True)
            lineage = versions.lineage(dist_dir, build_id)
            change_files = _change_set(
                lineage,
                new_dist / "plankg.nq",
                dist_dir,
                versions_dir,
                new_dist,
                vocab,
                (previous, change, chunk_counts.nquads) if previous and change else None,
            )
            kept_versions = versions.planned(versions_dir, lineage, keep_versions)
            store = _open_store(new_store)
            info: dict[str, object] = {
                "build_id": build_id,
                "base": vocab.base,
                "inputs_sha256": fingerprint,
                "source": {
                    "name": first.source_name,
                    "sha256": first.source_sha256,
                    "bytes": first.source_bytes,
                },
                "triples": triples,
                "quads": quad_count,
                "graphs": graphs,
                "previous_version": lineage.previous,
                "validation": {"conforms": violations == 0, "violations": violations, "warnings": warnings},
            }
            # The build record's list of the plans, made from their summaries as it is written.
            plan_list = {
                "plans": lambda: (
                    {
                        "slug": s.slug,
                        "title": s.title,
                        "source": s.source_name,
                        "sha256": s.source_sha256,
                        "triples": s.triples,
                        "graph": str(vocab.for_plan(s.slug).plan_graph_iri()),
                    }
                    for s in _summaries(kept)
                )
            }
            # The description of the corpus as a whole, and of each plan apart (written sorted to
            # files a few plans at a time and merged, as the dumps are: _describe_plans).
            described_graph = (
                dumps.dataset_graph(
                    vocab, info, files, first.title if len(kept) == 1 else None, catalogue=True
                )
                + linkset_description
                + dcatap.profile_graph(
                    vocab, files, publication or Publication(), _coverage(_plan_facts(kept), places)
                )
            )
            # Statements that are many per plan (the catalogue's naming each plan, each version's
            # seeds) are spilled in sorted runs as they are made, and merged with the rest.
            runs = spill.Runs(work / "description-runs")
            described_plans, plan_nodes = _describe_plans(
                vocab,
                publication or Publication(),
                kept,
                places,
                runs,
                build_id,
                code,
                cache.directory or work,
                journal,
                any(v.build_id != build_id for v in kept_versions),
            )
            described_graph += versions.description(
                vocab,
                lineage,
                kept_versions,
                described_graph,
                versions_dir,
                ((k.source_name, k.source_sha256) for k in kept),
                {f.name: f.sha256 for f in files},  # (it reads the N-Quads dump's: a corpus file)
                plan_nodes | set(described_graph.subjects()),
                out=lambda statement: runs.add(_triple(statement)),
            )
            runs.flush()
            del plan_nodes
            corpus_part = dumps.canonical_order(dumps.graph_quads(described_graph, None, skolemize))
            description = work / "description.nt"
            with description.open("wb") as out:
                out.writelines(
                    spill.merged(
                        [*(d.part for d in described_plans), *runs.paths],
                        spill.nt_bytes(corpus_part).splitlines(keepends=True),
                        work,
                    )
                )
            described = dumps.write_description_file(
                description,
                spill.merged_iris(
                    [*(d.iris for d in described_plans), *runs.iris], spill.iris(corpus_part), work
                ),
                new_dist,
                vocab.prefixes(),
            )
            del corpus_part, described_graph
            described_anew = tuple(k.slug for k, d in zip(kept, described_plans, strict=True) if d.made)
            del described_plans
            dumps.write_manifest(
                new_dist,
                lambda: _by_name(
                    sorted([*corpus_files, *change_files, described], key=lambda f: f.name),
                    _plan_files(kept),
                ),
                info,
                plan_list,
            )
            swaps = [(new_dist, dist_dir)]
            if not (versions_dir / build_id).is_dir():  # a kept version is never rewritten
                staging = _temporary_sibling(versions_dir / build_id, temporaries)
                versions.stage_archive(new_dist, staging)
                swaps.append((staging, versions_dir / build_id))
            loaded += _load(
                store, spill.read_quads(description, description_graph(vocab)), _DESCRIPTION_BATCH
            )
            _close_store(store, optimize=not was_updated)
            del store  # closed: counted anew, and closed before its directory is renamed
            _check_store(new_store, loaded)
            dumps.write_json(new_store / BUILD_INFO_FILE, info, plan_list)

        with stage("swap in"):
            # What the result tells of the plans, read back now (the staging directory goes next).
            summaries = tuple(_summaries(kept))
            every_file = tuple(files) + tuple(f for p in _plan_facts(kept) for f in p.files)
            report_text = reports_text.read_text(encoding="utf-8")
            _swap_in([(new_store, store_dir), *swaps])
            versions.commit(versions_dir, kept_versions)

        pruned = None
        if journal is not None and cache.directory is not None:
            with stage("prune the cache"):  # only once the new output is in place
                pruned = prune.prune(cache.directory, journal.path, began)
    finally:
        for path in temporaries:
            _remove(path)

    return BuildResult(
        build_id=build_id,
        source_name=first.source_name,
        source_sha256=first.source_sha256,
        inputs_sha256=fingerprint,
        triples=triples,
        quads=quad_count,
        warnings=warnings,
        report_text=report_text,
        files=every_file,
        dist_dir=dist_dir,
        store_dir=store_dir,
        seconds=time.perf_counter() - started,
        stage_seconds=timings,
        stage_memory=peaks,
        plans=summaries,
        parsed=tuple(parsed),
        resolved=tuple(k.slug for k in kept if k.resolved),
        chunk_owners=tuple(sorted(chunk_counts.made_owners)),
        store_delta=(len(change.added), len(change.removed)) if change is not None and was_updated else None,
        table_rows=dict(table_counts.redone) if tables_updated else None,
        pruned=pruned,
        described=described_anew,
    )


def _change_set(
    lineage: versions.Lineage,
    new_nquads: Path,
    dist_dir: Path,
    versions_dir: Path,
    new_dist: Path,
    vocab: Vocab,
    known: tuple[incremental.Previous, incremental.Delta, list[incremental.Chunk]] | None = None,
) -> list[dumps.DumpFile]:
    """The change set from the previous version: an identical rebuild republishes the current one;
    otherwise the previous build's N-Quads dump (in ``dist_dir``, the build being replaced, or in its
    kept version) is compared with the new one (``new_nquads``), both read as streams: only the quads
    of the subjects that changed are held (``changes.touched_quads``). ``known``: the previous build
    and the dumps' difference, when a rebuild found them (``mapping.incremental``): the touched quads
    are then read from the chunks that hold them."""
    if lineage.same_as_current and all((dist_dir / n).is_file() for n in changes.CHANGE_FILES):
        return changes.carry_over(dist_dir, new_dist)
    if known is not None and lineage.previous == known[0].build_id and not lineage.same_as_current:
        previous, change, chunk_list = known
        plan_prefix = str(vocab.thing("plan")) + "/"
        old, new = incremental.touched(previous, new_nquads, chunk_list, change.subjects(), plan_prefix)
        return changes.write_change_set(new_dist, vocab, lineage.build_id, new, lineage.previous, old)
    if lineage.previous is not None:
        for candidate in (dist_dir / "plankg.nq", versions_dir / lineage.previous / "plankg.nq.gz"):
            if candidate.is_file() and (candidate.parent != dist_dir or not lineage.same_as_current):
                old, new = changes.touched_quads(candidate, new_nquads)
                return changes.write_change_set(new_dist, vocab, lineage.build_id, new, lineage.previous, old)
    return changes.write_change_set(new_dist, vocab, lineage.build_id, [], None, None)


def _warn_loops(
    links: Sequence[crossrefs.Link], records: Sequence[PlanRecord], seeds: Sequence[Seed], progress: Progress
) -> None:
    """A circle of plans implementing each other is a warning naming each citation's file, line,
    column (``crossrefs.loops`` over the plans' implements/based_on citations of plans of the corpus)."""
    plans = {iri for r in records for iri in r.plan_iris}
    by_plan = {iri: seed for r, seed in zip(records, seeds, strict=True) for iri in r.plan_iris}
    links = sorted((link for link in links if link.target in plans), key=lambda link: link.citation)

    def where(link: crossrefs.Link) -> str:
        seed = by_plan[link.source]
        raw, _ = seed_text(seed.path)
        return str(Location.at(str(seed.path), raw, link.start))

    for message in crossrefs.loops(links, where):
        progress.warn(message)


def _graph_lines(path: Path, graph: str) -> Iterator[bytes]:
    """A plan's spilled graph as N-Quads lines of its named graph."""
    return spill.in_graph(spill.read_lines(path), graph)


def _counted(lines: Iterable[bytes], counter: list[int]) -> Iterator[bytes]:
    for line in lines:
        counter[0] += 1
        yield line


def _remove(path: Path, attempts: int = 50) -> None:
    """Remove a build's temporary directory. A store a failed build left open (the traceback holds it)
    may still be writing a file into it while it is removed: then it is removed again, a moment later."""
    for _ in range(attempts):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.1)


def _temporary_sibling(target: Path, registry: list[Path]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    registry.append(path)
    return path


_LOAD_BATCH = 20_000  # quads per call of the bulk loader
# The description's quads per call: ~150 a plan, so 20,000 at once grew the build's peak with the
# corpus up to 133 plans (+13 MiB at 20,000, over the store the tables had read); its load is ~1 s.
_DESCRIPTION_BATCH = 2_000


def _load(store: ox.Store, quads: Iterable[ox.Quad], batch_size: int = _LOAD_BATCH) -> int:
    """Load ``quads`` into ``store`` in batches of ``_LOAD_BATCH``; how many were given.

    In batches: Oxigraph's bulk loader holds what it is given in memory while it builds its files
    (137k quads at once: +100 MiB, the build's peak; bench/results/*-corpus-scale.md); a bulk load per
    plan graph (~2,000 quads) made the load three times slower (100 generated plans: 6 -> 19 s)."""
    given = 0
    quads = iter(quads)
    while batch := list(itertools.islice(quads, batch_size)):
        store.bulk_extend(batch)
        given += len(batch)
    return given


def _compact(store: ox.Store) -> None:
    """Flush the store and compact its files."""
    store.flush()
    store.optimize()


def _open_store(path: Path) -> ox.Store:
    """The store at ``path``, opened (anew: the one that was open there is deleted first)."""
    return ox.Store(str(path))


def _close_store(store: ox.Store, *, optimize: bool = True) -> None:
    """Flush and compact a loaded store (an updated checkpoint is flushed only: compacting it would
    rewrite every file it shares with the previous store). The caller then lets it go and counts it
    anew (``_check_store``)."""
    if optimize:
        _compact(store)
    else:
        store.flush()


def _check_store(path: Path, given: int) -> None:
    """Check the store at ``path`` holds every quad it was given, counting them in the store opened
    anew (what its load and compaction held is not held under the count).

    Oxigraph stores literals in canonical form: derived integer types become ``xsd:integer``
    (``oa:start`` is written ``xsd:nonNegativeInteger`` in the dumps) and lexical forms are
    normalised (``"1292.20"^^xsd:decimal`` → ``1292.2``). The dumps keep the graph as validated; the
    store holds the same quads up to that canonicalisation. Should two quads collapse into one, the
    store would lose data, and the build fails instead.
    """
    store = _open_store(path)
    loaded = len(store)
    del store  # closed before the directory is renamed (and not kept by a traceback)
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
