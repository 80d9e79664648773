"""Every build is a version: the archive of the last N builds, their lineage and their description.

The archive is a directory beside ``dist/`` (``var/versions`` by default, ``PLANKG_VERSIONS``):

* ``{versions}/{build_id}/`` — a copy of everything the build wrote into ``dist/`` (dumps, tables,
  ``void.ttl``, the change set, ``SHA256SUMS``, ``manifest.json``), never rewritten once there;
* ``{versions}/index.json`` — the kept build ids, oldest first, each with its previous build id.

A build reads its lineage before anything is swapped in (:func:`lineage`): the previous version is
the build now in ``dist/``; a rebuild with identical output (``build_id`` is derived from the dumps'
bytes) is the same version and keeps the previous version's own predecessor. The new version's
directory is prepared as a hidden sibling and renamed into place together with the store and the
dumps (``mapping.build``), so a failed build adds or removes nothing; only then is the index
rewritten (atomically, by rename) and the oldest versions beyond ``keep`` removed.

The dataset description gains (:func:`description`) the DCAT 3 versioning of §"Versioning":
``{base}id/dataset`` is the dataset as it is now (``dcat:version`` the build id,
``dcat:previousVersion`` and ``prov:wasRevisionOf`` the previous version, ``dcat:hasCurrentVersion``
and ``dcat:hasVersion``); each kept build is ``{base}id/dataset/version/{build_id}``, a
``dcat:Dataset`` that ``dcat:isVersionOf`` the dataset, with its own ``dcat:version``, its
predecessor, the seeds it was built from (file name and SHA-256) and its N-Quads dump at its
versioned URL ``{base}dumps/versions/{build_id}/plankg.nq.gz``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from mapping.layout import DESCRIPTION_FILE, DUMP_STEM, MANIFEST_FILE
from mapping.vocab import DCAT, PROV, SPDX, VOID, Vocab

DEFAULT_VERSIONS = Path("var/versions")
DEFAULT_KEEP = 5
INDEX_FILE = "index.json"
BUILD_ID = re.compile(r"[0-9a-f]{16}")  # mapping.dumps.build_id
ARCHIVED_DUMP = f"{DUMP_STEM}.nq.gz"


class VersionsError(ValueError):
    """A versions setting has a value the build cannot run with."""


def parse_keep(value: str) -> int:
    """``PLANKG_KEEP_VERSIONS``: how many builds the archive keeps (at least 1: the current one)."""
    try:
        keep = int(value)
    except ValueError:
        raise VersionsError(f"PLANKG_KEEP_VERSIONS={value!r}: not a whole number") from None
    if keep < 1:
        raise VersionsError(f"PLANKG_KEEP_VERSIONS={value!r}: at least 1 (the current build) is kept")
    return keep


@dataclass(frozen=True)
class Version:
    """One kept build: its id and its predecessor's."""

    build_id: str
    previous: str | None


@dataclass(frozen=True)
class Lineage:
    """Where a new build stands: its predecessor and, for an identical rebuild, that it is one."""

    build_id: str
    previous: str | None
    same_as_current: bool  # the build in dist/ has the same id: the same version, nothing new


def read_manifest(directory: Path) -> dict[str, object] | None:
    try:
        data = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _previous_of(manifest: dict[str, object]) -> str | None:
    value = manifest.get("previous_version")
    return value if isinstance(value, str) and BUILD_ID.fullmatch(value) else None


def lineage(dist_dir: Path, build_id: str) -> Lineage:
    """The new build's place after the build now in ``dist_dir`` (if any)."""
    current = read_manifest(dist_dir)
    if current is None or not isinstance(current.get("build_id"), str):
        return Lineage(build_id, None, False)
    if current["build_id"] == build_id:
        return Lineage(build_id, _previous_of(current), True)
    return Lineage(build_id, str(current["build_id"]), False)


def read_index(versions_dir: Path) -> list[Version]:
    """The kept versions, oldest first (only entries whose directory exists)."""
    try:
        data = json.loads((versions_dir / INDEX_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    kept = []
    for item in data.get("versions", []) if isinstance(data, dict) else []:
        if not isinstance(item, dict):
            continue
        bid, prev = item.get("build_id"), item.get("previous")
        if isinstance(bid, str) and BUILD_ID.fullmatch(bid) and (versions_dir / bid).is_dir():
            kept.append(Version(bid, prev if isinstance(prev, str) and BUILD_ID.fullmatch(prev) else None))
    return kept


def planned(versions_dir: Path, new: Lineage, keep: int) -> list[Version]:
    """The versions kept once ``new`` is in, oldest first: at most ``keep``, the newest ones."""
    kept = [v for v in read_index(versions_dir) if v.build_id != new.build_id]
    existing = {v.build_id: v for v in read_index(versions_dir)}
    # An id seen before (a revert to an earlier output) keeps its archived record: it is immutable.
    kept.append(existing.get(new.build_id, Version(new.build_id, new.previous)))
    return kept[-keep:]


def stage_archive(new_dist: Path, staging: Path) -> None:
    """Fill ``staging`` (a new hidden directory in the archive) with the new build's files.

    Hard links where the file system allows (the files in ``new_dist`` are never written again: a
    rebuild writes a new directory), copies elsewhere.
    """
    for path in sorted(new_dist.iterdir()):
        if path.is_file():
            try:
                os.link(path, staging / path.name)
            except OSError:
                shutil.copy2(path, staging / path.name)


def commit(versions_dir: Path, kept: list[Version]) -> None:
    """After the swap: write the index (atomically) and remove the versions no longer kept."""
    text = json.dumps(
        {"versions": [{"build_id": v.build_id, "previous": v.previous} for v in kept]}, indent=2
    )
    temporary = versions_dir / f".{INDEX_FILE}.new"
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, versions_dir / INDEX_FILE)
    names = {v.build_id for v in kept}
    for path in versions_dir.iterdir():
        if path.is_dir() and BUILD_ID.fullmatch(path.name) and path.name not in names:
            shutil.rmtree(path, ignore_errors=True)


def version_node(vocab: Vocab, build_id: str) -> URIRef:
    return vocab.thing("dataset", "version", build_id)


def versioned_url(vocab: Vocab, build_id: str, name: str) -> URIRef:
    return URIRef(f"{vocab.base}dumps/versions/{build_id}/{name}")


def description(
    vocab: Vocab,
    current: Lineage,
    kept: list[Version],
    described: Graph,
    versions_dir: Path,
    seeds: Mapping[str, str] | Iterable[tuple[str, str]],
    files: dict[str, str],
    present: Collection[Node] | None = None,
    out: Callable[[tuple[Node, Node, Node]], None] | None = None,
) -> Graph:
    """The DCAT 3 versioning of the dataset (see the module's docstring).

    ``described``: the current build's description so far (``{base}id/dataset`` and its files);
    ``seeds``: its seed files (name → SHA-256); ``files``: its files (name → SHA-256). What a kept
    version says beyond its id, lineage and files (publisher, themes, coverage, triples …) is what its
    own description said of ``{base}id/dataset`` when it was the current build (``void.ttl`` in the
    archive), so a version is described by its own build, never by a later one. ``present``: every
    node the current description describes, when ``described`` holds only part of it (the build
    describes the plans apart); by default the subjects of ``described``. ``out``: where the
    statements that are many per plan go (each version's seeds: ``seed_statements``) instead of the
    graph returned, which then holds none per plan (the build spills them: ``spill.Runs``); ``seeds``
    may then be read once, in any order.
    """
    g = Graph()
    dataset = vocab.thing("dataset")
    g.add((dataset, DCAT.hasCurrentVersion, version_node(vocab, current.build_id)))
    if current.previous is not None:
        g.add((dataset, DCAT.previousVersion, version_node(vocab, current.previous)))
        g.add((dataset, PROV.wasRevisionOf, version_node(vocab, current.previous)))
    present = set(described.subjects()) if present is None else present
    twin = vocab.thing("dataset", "dump", ARCHIVED_DUMP)
    for version in kept:
        bid = version.build_id
        if bid == current.build_id:
            own, sources, dump_sha = described, seeds, files.get(ARCHIVED_DUMP)
        else:
            # _inherit reads the statements of the dataset, of the dump's twin and of the nodes it
            # reaches that the current description lacks: only those are kept of a whole corpus's
            # description (a 1,000-plan one is ~150,000 triples).
            own, sources, dump_sha = _archived(
                versions_dir / bid, lambda s: s in (dataset, twin) or s not in present
            )
        v = version_node(vocab, bid)
        g.add((dataset, DCAT.hasVersion, v))
        # (a kept version's description names each of its plans' datasets: that goes to ``out``)
        _inherit(g, own, dataset, v, present, add=out if bid != current.build_id else None)
        g.add((v, RDF.type, DCAT.Dataset))
        g.add((v, DCAT.isVersionOf, dataset))
        g.add((v, DCAT.version, Literal(bid)))
        g.add((v, DCTERMS.title, Literal(f"The plans as a knowledge graph, build {bid}", lang="en")))
        text = (
            f"The build {bid} of the dataset: its dumps stay downloadable under "
            f"{vocab.base}dumps/versions/{bid}/ while it is among the kept versions."
        )
        g.add((v, DCTERMS.description, Literal(text, lang="en")))
        if version.previous is not None:
            g.add((v, DCAT.previousVersion, version_node(vocab, version.previous)))
            g.add((v, PROV.wasRevisionOf, version_node(vocab, version.previous)))
        listed = sources.items() if isinstance(sources, Mapping) else sources
        for name, sha256 in listed if out is not None else sorted(listed):
            for statement in seed_statements(vocab, bid, name, sha256):
                if out is not None:
                    out(statement)
                else:
                    g.add(statement)
        if dump_sha is not None:
            url = versioned_url(vocab, bid, ARCHIVED_DUMP)
            dist = vocab.thing("dataset", "version", bid, "dump", ARCHIVED_DUMP)
            g.add((v, DCAT.distribution, dist))
            _inherit(g, own, twin, dist, present, keep={DCTERMS.title, DCTERMS.description})
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCAT.downloadURL, url))
            g.add((dist, DCAT.accessURL, url))
            _checksum(g, dist, dump_sha)
    return g


def seed_statements(vocab: Vocab, build_id: str, name: str, sha256: str) -> Iterator[tuple[Node, Node, Node]]:
    """What the version ``build_id`` says of one of its seeds: derived from it, its file name, its
    checksum."""
    v = version_node(vocab, build_id)
    seed = vocab.thing("dataset", "version", build_id, "seed", name)
    yield v, PROV.wasDerivedFrom, seed
    yield seed, DCTERMS.title, Literal(name)
    checksum = Graph()
    _checksum(checksum, seed, sha256)
    yield from sorted(checksum)


def inherited_by_current(
    vocab: Vocab, build_id: str, statements: Iterable[tuple[Node, Node, Node]]
) -> Iterator[tuple[Node, Node, Node]]:
    """Of ``statements`` (part of the current build's description, made apart from the graph
    ``description`` reads: the catalogue's statements naming each plan), what the current version
    ``build_id`` inherits (``_inherit``): the dataset's, but for ``_NOT_INHERITED``, said of the
    version. Nothing beyond them: the current version's closure reads the current description,
    where every node it could reach is described already."""
    dataset, v = vocab.thing("dataset"), version_node(vocab, build_id)
    for s, p, o in statements:
        if s == dataset and p not in _NOT_INHERITED:
            yield v, p, o


# What a version does not inherit from its build's description of the dataset: its title and its
# own lineage, files and services are said anew.
_NOT_INHERITED = {
    DCTERMS.title,
    DCTERMS.description,
    DCAT.version,
    DCAT.distribution,
    DCAT.hasVersion,
    DCAT.hasCurrentVersion,
    DCAT.previousVersion,
    DCAT.downloadURL,
    DCAT.accessURL,
    DCAT.accessService,
    PROV.wasRevisionOf,
    SPDX.checksum,
    URIRef(str(VOID) + "dataDump"),
    URIRef(str(VOID) + "sparqlEndpoint"),
    URIRef(str(VOID) + "subset"),
}


def _inherit(
    g: Graph,
    source: Graph,
    old: URIRef,
    new: URIRef,
    present: Collection[Node],
    keep: frozenset[URIRef] | set[URIRef] = frozenset(),
    add: Callable[[tuple[Node, Node, Node]], None] | None = None,
) -> None:
    """Copy ``old``'s statements in ``source`` onto ``new`` (except ``_NOT_INHERITED`` other than
    ``keep``), with the statements of the nodes they reach that the current description lacks; into
    ``g``, or given to ``add``."""
    skip = _NOT_INHERITED - set(keep)
    seen: set[Node] = {old}
    put = g.add if add is None else add

    def closure(node: Node) -> None:
        if not isinstance(node, URIRef) or node in seen or node in present:
            return
        seen.add(node)
        for p, o in source.predicate_objects(node):
            put((node, p, o))
            closure(o)

    for p, o in source.predicate_objects(old):
        if p not in skip:
            put((new, p, o))
            closure(o)


def _checksum(g: Graph, node: URIRef, sha256: str) -> None:
    checksum = URIRef(f"{node}/sha256")
    g.add((node, SPDX.checksum, checksum))
    g.add((checksum, RDF.type, SPDX.Checksum))
    g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    g.add((checksum, SPDX.checksumValue, Literal(sha256, datatype=XSD.hexBinary)))


def _archived(
    directory: Path, wanted: Callable[[Node], bool] = lambda _: True
) -> tuple[Graph, dict[str, str], str | None]:
    """A kept version's own description (the statements of the subjects ``wanted`` accepts: what
    ``_inherit`` may read of it), seeds (every plan's) and ``plankg.nq.gz`` hash, from its archived files. Its
    ``void.ttl`` is read by Oxigraph's parser and only the wanted statements become rdflib's: rdflib's
    Turtle parser took ~0.1 s a plan for each kept version, in every rebuild (issue 8 point 5).
    pyoxigraph is imported here, by the build: the routes import this module, and serving reaches
    pyoxigraph only through server.stores.oxigraph (tests/test_store.py)."""
    import pyoxigraph as ox

    from mapping.dumps import to_rdflib

    own = Graph()
    try:
        for triple in ox.parse(path=str(directory / DESCRIPTION_FILE), format=ox.RdfFormat.TURTLE):
            subject = to_rdflib(triple.subject, plain_strings=True)  # as rdflib's Turtle parser
            if wanted(subject):
                own.add((subject, to_rdflib(triple.predicate), to_rdflib(triple.object, plain_strings=True)))
    except (OSError, SyntaxError, ValueError):
        own = Graph()
    manifest = read_manifest(directory) or {}
    sources: dict[str, str] = {}
    # Every plan's seed (a corpus's build record lists them under "plans"); a record without that
    # list names its one seed under "source".
    plans = manifest.get("plans")
    for plan in plans if isinstance(plans, list) else []:
        if isinstance(plan, dict) and isinstance(plan.get("source"), str):
            sources[plan["source"]] = str(plan.get("sha256", ""))
    source = manifest.get("source")
    if not sources and isinstance(source, dict) and isinstance(source.get("name"), str):
        sources[str(source["name"])] = str(source.get("sha256", ""))
    dump_sha = None
    listed = manifest.get("files")
    for item in listed if isinstance(listed, list) else []:
        if (
            isinstance(item, dict)
            and item.get("name") == ARCHIVED_DUMP
            and isinstance(item.get("sha256"), str)
        ):
            dump_sha = item["sha256"]
    return own, sources, dump_sha
