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

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import Graph
from rich.console import Console

from mapping import changes, dcatap, dumps, layout, tables, versions
from mapping.errors import DocumentError, Location, PlanKGError, ValidationFailed
from mapping.graph import document_graph
from mapping.linksets import linkset_files
from mapping.linksets_rdf import merge_linksets
from mapping.publication import Publication
from mapping.validate import ONTOLOGY_DIR, load_ontology, validate
from mapping.vocab import ELI, Vocab

DEFAULT_SEEDS = Path("seeds")
DEFAULT_DIST = Path("dist")
DEFAULT_STORE = Path("var/store")
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


class BuildError(PlanKGError):
    """The build cannot start or finish for a reason outside the document (e.g. no seed file)."""


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


GraphMaker = Callable[[str, str, Vocab], Graph]
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
    source_name: str
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


# --- inputs -----------------------------------------------------------------------------------------


def find_source(seeds_dir: Path) -> Path:
    """The one plan text (``*.txt``) in ``seeds_dir``."""
    if not seeds_dir.is_dir():
        raise BuildError(f"{seeds_dir}: no such seeds directory")
    found = sorted(seeds_dir.glob("*.txt"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise BuildError(f"{seeds_dir}: expected exactly one plan text (*.txt), found {names}")
    return found[0]


def read_source(path: Path) -> tuple[str, bytes]:
    """The text of the file exactly as shipped (no newline translation) and its bytes."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError as err:
        before = data[: err.start].decode("utf-8", errors="replace")
        location = Location.at(str(path), before, len(before))
        raise DocumentError(
            f"not UTF-8: byte 0x{data[err.start]:02x} cannot start a character", location
        ) from err


def _hash_files(paths: list[Path], root: Path) -> list[str]:
    return [f"{p.relative_to(root).as_posix()} {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in paths]


def inputs_fingerprint(
    seeds_dir: Path,
    vocab: Vocab,
    ontology_dir: Path = ONTOLOGY_DIR,
    linksets_dir: Path | None = None,
    publication: Publication | None = None,
) -> str:
    """SHA-256 over what a build's output depends on: the seed text, the linksets, the ontology and
    shapes, the mapping code and its data files, the base IRI and the versions of the RDF libraries."""
    source = find_source(seeds_dir)
    lines = [f"base {vocab.base}", f"source {source.name}"]
    lines += [f"{name} {_version(name)}" for name in _LIBRARIES]
    lines += _hash_files([source], seeds_dir)
    if linksets_dir is not None:
        lines += ["linksets", *_hash_files(linkset_files(linksets_dir), linksets_dir)]
    lines.append(f"publication {publication or Publication()!r}")
    if ontology_dir.is_dir():
        lines += _hash_files(sorted(ontology_dir.rglob("*.ttl")), ontology_dir)
    code = [p for p in sorted(_PACKAGE_DIR.rglob("*")) if p.is_file() and p.suffix in _CODE_SUFFIXES]
    lines += _hash_files(code, _PACKAGE_DIR)
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
    seeds_dir: Path,
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
    if info.get("inputs_sha256") != inputs_fingerprint(
        seeds_dir, vocab, ontology_dir, linksets_dir, publication
    ):
        return (
            "seeds, linksets, publication settings, ontology, mapping code or base IRI changed since "
            "the last build"
        )
    return None


def is_stale(
    seeds_dir: Path, dist_dir: Path, store_dir: Path, vocab: Vocab, ontology_dir: Path = ONTOLOGY_DIR
) -> bool:
    """True when ``staleness`` finds a reason to rebuild."""
    return staleness(seeds_dir, dist_dir, store_dir, vocab, ontology_dir) is not None


# --- the build --------------------------------------------------------------------------------------


def build(
    seeds_dir: Path = DEFAULT_SEEDS,
    dist_dir: Path = DEFAULT_DIST,
    store_dir: Path = DEFAULT_STORE,
    vocab: Vocab | None = None,
    progress: Progress | None = None,
    *,
    make_graph: GraphMaker = document_graph,
    validator: Validator = validate,
    ontology_dir: Path = ONTOLOGY_DIR,
    linksets_dir: Path | None = None,
    publication: Publication | None = None,
    versions_dir: Path | None = None,
    keep_versions: int = versions.DEFAULT_KEEP,
) -> BuildResult:
    """Build the store and the dumps from the plan text in ``seeds_dir``.

    Raises ``DocumentError`` (with the seed file's path, line and column) for a malformed document,
    ``ValidationFailed`` (the report names node and rule) when SHACL finds violations, ``BuildError``
    when there is no single seed file. On any failure the previous output stays untouched.

    ``versions_dir`` (default: ``versions`` beside the store's directory, ``var/versions``) keeps the
    last ``keep_versions`` builds' files (``mapping.versions``); the change set from the build now in
    ``dist_dir`` is written with the dumps (``mapping.changes``).
    """
    vocab = vocab or Vocab()
    progress = progress or QuietProgress()
    versions_dir = versions_dir if versions_dir is not None else store_dir.parent / "versions"
    started = time.perf_counter()
    timings: dict[str, float] = {}

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        t = time.perf_counter()
        with progress.stage(name):
            yield
        timings[name] = time.perf_counter() - t

    temporaries: list[Path] = []
    try:
        with stage("read seeds"):
            source = find_source(seeds_dir)
            raw, data = read_source(source)
            source_sha256 = hashlib.sha256(data).hexdigest()
            fingerprint = inputs_fingerprint(seeds_dir, vocab, ontology_dir, linksets_dir, publication)

        with stage("parse and map to RDF"):
            try:
                graph = make_graph(raw, source.name, vocab)
            except DocumentError as err:
                # Name the file by the path the user gave, so `file:line:column` leads to it.
                where = Location(str(source), err.location.line, err.location.column, err.location.offset)
                raise DocumentError(err.message, where) from err

        with stage("merge linksets"):
            linkset_description = merge_linksets(graph, vocab, linksets_dir) if linksets_dir else Graph()

        with stage(f"validate with SHACL ({len(graph)} triples)"):
            outcome = validator(graph, vocab, ontology_dir)
            if outcome.violations:
                raise ValidationFailed(outcome.report_text, outcome.violations)
        if outcome.warnings:
            progress.warn(outcome.report_text)

        with stage("write dumps"):
            # The vocabulary is published with the data, in the default graph where the pages and
            # the canned queries look: a Data Cube consumer finds the structure definition, and
            # every {base}def/… term dereferences to its labels and definition.
            published = Graph()
            published += graph
            published += load_ontology(vocab, ontology_dir)
            skolemize = dumps.BlankNodeSkolemizer(vocab.base)
            quads = dumps.canonical_order(
                dumps.graph_quads(published, None, skolemize)
                + dumps.graph_quads(outcome.report_graph, validation_graph(vocab), skolemize)
            )
            triples = sum(1 for q in quads if isinstance(q.graph_name, ox.DefaultGraph))
            new_dist = _temporary_sibling(dist_dir, temporaries)
            files = dumps.write_dumps(quads, new_dist, vocab.prefixes())
            files += tables.write_tables(quads, new_dist, vocab)
            build_id = dumps.build_id(files)
            lineage = versions.lineage(dist_dir, build_id)
            change_files = _change_set(lineage, quads, dist_dir, versions_dir, new_dist, vocab)
            kept = versions.planned(versions_dir, lineage, keep_versions)
            info: dict[str, object] = {
                "build_id": build_id,
                "base": vocab.base,
                "inputs_sha256": fingerprint,
                "source": {"name": source.name, "sha256": source_sha256, "bytes": len(data)},
                "triples": triples,
                "quads": len(quads),
                "graphs": {"default": triples, validation_graph(vocab): len(quads) - triples},
                "previous_version": lineage.previous,
                "validation": {
                    "conforms": outcome.conforms,
                    "violations": outcome.violations,
                    "warnings": outcome.warnings,
                },
            }
            title = graph.value(vocab.plan(), ELI.title)
            described_graph = (
                dumps.dataset_graph(vocab, info, files, str(title) if title is not None else None)
                + linkset_description
                + dcatap.profile_graph(
                    vocab, files, publication or Publication(), dcatap.coverage(graph, vocab)
                )
            )
            described_graph += versions.description(
                vocab,
                lineage,
                kept,
                described_graph,
                versions_dir,
                {source.name: source_sha256},
                {f.name: f.sha256 for f in files},
            )
            description = dumps.canonical_order(
                dumps.graph_quads(described_graph, description_graph(vocab), skolemize)
            )
            described = dumps.write_description(description, new_dist, vocab.prefixes())
            dumps.write_manifest(new_dist, [*files, *change_files, described], info)
            swaps = [(new_dist, dist_dir)]
            if not (versions_dir / build_id).is_dir():  # a kept version is never rewritten
                staging = _temporary_sibling(versions_dir / build_id, temporaries)
                versions.stage_archive(new_dist, staging)
                swaps.append((staging, versions_dir / build_id))

        with stage(f"load the store ({len(quads)} quads)"):
            new_store = _temporary_sibling(store_dir, temporaries)
            _load_store(new_store, quads + description)
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
        source_name=source.name,
        source_sha256=source_sha256,
        inputs_sha256=fingerprint,
        triples=triples,
        quads=len(quads),
        warnings=outcome.warnings,
        report_text=outcome.report_text,
        files=tuple(files),
        dist_dir=dist_dir,
        store_dir=store_dir,
        seconds=time.perf_counter() - started,
        stage_seconds=timings,
    )


def _change_set(
    lineage: versions.Lineage,
    quads: list[ox.Quad],
    dist_dir: Path,
    versions_dir: Path,
    new_dist: Path,
    vocab: Vocab,
) -> list[dumps.DumpFile]:
    """The change set from the previous version: an identical rebuild republishes the current one;
    otherwise the previous build's quads come from ``dist_dir`` (the build being replaced)."""
    if lineage.same_as_current and all((dist_dir / n).is_file() for n in changes.CHANGE_FILES):
        return changes.carry_over(dist_dir, new_dist)
    old = None
    if lineage.previous is not None:
        for candidate in (dist_dir / "plankg.nq", versions_dir / lineage.previous / "plankg.nq.gz"):
            if candidate.is_file() and (candidate.parent != dist_dir or not lineage.same_as_current):
                old = changes.read_nquads(candidate)
                break
    previous = lineage.previous if old is not None else None
    return changes.write_change_set(new_dist, vocab, lineage.build_id, quads, previous, old)


def _temporary_sibling(target: Path, registry: list[Path]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    registry.append(path)
    return path


def _load_store(path: Path, quads: list[ox.Quad]) -> None:
    """Load ``quads`` into a new store at ``path``.

    Oxigraph stores literals in canonical form: derived integer types become ``xsd:integer``
    (``oa:start`` is written ``xsd:nonNegativeInteger`` in the dumps) and lexical forms are
    normalised (``"1292.20"^^xsd:decimal`` → ``1292.2``). The dumps keep the graph as validated; the
    store holds the same quads up to that canonicalisation. Should two quads collapse into one, the
    store would lose data, and the build fails instead.
    """
    store = ox.Store(str(path))
    store.bulk_extend(quads)
    store.flush()
    store.optimize()
    loaded = len(store)
    del store  # closes the store before its directory is renamed
    if loaded != len(quads):
        raise BuildError(
            f"the store holds {loaded} quads, not {len(quads)}: Oxigraph's canonical literal forms made "
            'distinct literals equal (e.g. "1.0" and "1.00" as xsd:decimal)'
        )


def _swap_in(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each new directory onto its target; all or (rolling back) none."""
    done: list[tuple[Path, Path, Path | None]] = []  # (new, target, backup of the old target)
    try:
        for new, target in pairs:
            backup = None
            if target.exists():
                backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                backup.rmdir()
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
        raise
    for _, _, backup in done:
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
