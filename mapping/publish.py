"""``plankg publish URL``: load a build's dumps into a remote SPARQL engine through the Graph Store Protocol.

What is loaded is what the embedded store serves: ``plankg.nq`` (the default graph and the validation
report) and ``void.ttl`` (the dataset description, in its named graph), read into an in-memory Oxigraph
store first so that literals take the same canonical forms (``"1292.20"^^xsd:decimal`` → ``1292.2``).
The quad count is checked against the build record (``manifest.json``) and the dump's SHA-256 against
the manifest before anything is sent.

The switch, and its window (the layout is in :mod:`mapping.layout`):

1. the build's default graph is written into a fresh engine graph of its own,
   ``{base}id/graph/build/{build_id}`` (``PUT`` of the first part, ``POST`` of the rest), which no
   server reads yet;
2. the named graphs (the validation report, the dataset description) are replaced under their own
   names, one ``PUT`` each — a query naming them reads the new build's copy from here on while the
   default graph is still the old build's: that is the window, as long as these two small ``PUT`` s;
3. the record graph ``{base}id/graph/published`` is replaced (one ``PUT``): servers read it every few
   seconds (``PLANKG_REMOTE_REFRESH``) and move to the new build, whose id keys their caches;
4. the default graph of the build before the previous one is deleted (the previous one is kept, so
   that servers that have not read the new record yet still answer from a whole build).

A failure before step 3 leaves the engine serving the old build; publishing again starts over.
Credentials come from the environment (``PLANKG_REMOTE_USER`` / ``PLANKG_REMOTE_PASSWORD``, digest
or basic by ``PLANKG_REMOTE_AUTH``) and are never printed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

from mapping import layout
from mapping.errors import PlanKGError

_PART = 50_000  # triples per request
_TURTLE = "text/turtle"  # N-Triples is Turtle; every Graph Store Protocol implementation reads it


class PublishError(PlanKGError):
    """The build could not be published (a bad dump, an engine that refused or could not be reached)."""


@dataclass(frozen=True)
class PublishResult:
    build_id: str
    default_graph: str
    named_graphs: tuple[str, ...]
    quads: int
    replaced: str | None  # the build id served before, if any
    deleted: str | None  # the engine graph removed (the default graph of two builds ago)
    seconds: float


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_build(dist: Path) -> tuple[dict[str, object], ox.Store]:
    """The build record and the build's quads (canonical forms, as the embedded store holds them)."""
    manifest_path = dist / layout.MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishError(
            f"{manifest_path}: no build record to publish ({exc}); run `plankg build`"
        ) from exc
    base = manifest.get("base")
    build_id = manifest.get("build_id")
    if not isinstance(base, str) or not isinstance(build_id, str):
        raise PublishError(f"{manifest_path}: the build record has no base or build id")
    dump = dist / f"{layout.DUMP_STEM}.nq"
    entry = next((f for f in manifest.get("files", []) if f.get("name") == dump.name), None)
    if entry is None or not dump.is_file():
        raise PublishError(f"{dump}: the build has no N-Quads dump")
    if _sha256(dump) != entry.get("sha256"):
        raise PublishError(f"{dump}: its SHA-256 is not the one the build record gives; rebuild")
    store = ox.Store()
    try:
        store.bulk_extend(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS))
        description = dist / layout.DESCRIPTION_FILE
        if description.is_file():
            graph = ox.NamedNode(base + "id/graph/dataset")
            store.bulk_extend(
                ox.Quad(t.subject, t.predicate, t.object, graph)
                for t in ox.parse(path=str(description), format=ox.RdfFormat.TURTLE)
            )
    except (OSError, SyntaxError, ValueError) as exc:
        raise PublishError(f"{dump}: cannot be read: {exc}") from exc
    return manifest, store


def _parts(triples: Sequence[ox.Triple]) -> Iterator[bytes]:
    for start in range(0, len(triples), _PART):
        body = ox.serialize(triples[start : start + _PART], format=ox.RdfFormat.N_TRIPLES)
        if body is None:
            raise TypeError("pyoxigraph.serialize returned no bytes")
        yield body


class GraphStore:
    """A Graph Store Protocol endpoint (indirect graph identification, ``?graph=``)."""

    def __init__(self, url: str, auth: httpx.Auth | None, timeout: float) -> None:
        self.url = url
        self.client = httpx.Client(auth=auth, timeout=timeout, headers={"User-Agent": "plankg"})

    def _send(self, method: str, graph: str, body: bytes | None = None) -> httpx.Response:
        headers = {"Content-Type": _TURTLE} if body is not None else {"Accept": _TURTLE}
        try:
            response = self.client.request(
                method, self.url, params={"graph": graph}, content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise PublishError(f"{self.url}: cannot be reached: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400 and not (method in ("GET", "DELETE") and response.status_code == 404):
            said = " ".join(response.text.split())[:400]
            raise PublishError(
                f"{self.url}: {method} of graph <{graph}> answered {response.status_code}: {said}"
            )
        return response

    def put(self, graph: str, triples: Sequence[ox.Triple]) -> None:
        for i, part in enumerate(_parts(triples) if triples else iter([b""])):
            self._send("PUT" if i == 0 else "POST", graph, part)

    def get(self, graph: str) -> list[ox.Triple] | None:
        response = self._send("GET", graph)
        if response.status_code == 404:
            return None
        media = response.headers.get("content-type", _TURTLE).split(";")[0].strip()
        fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.TURTLE
        try:
            return [q.triple if isinstance(q, ox.Quad) else q for q in ox.parse(response.content, format=fmt)]
        except SyntaxError as exc:
            raise PublishError(f"{self.url}: the record graph <{graph}> cannot be read: {exc}") from exc

    def delete(self, graph: str) -> None:
        self._send("DELETE", graph)

    def close(self) -> None:
        self.client.close()


def _previous(record: list[ox.Triple] | None, subject: str) -> tuple[str | None, str | None, str | None]:
    """(build id, default graph, replaced graph) of the record as it stands."""
    build_id = default = replaced = None
    for t in record or []:
        if not isinstance(t.subject, ox.NamedNode) or t.subject.value != subject:
            continue
        if not isinstance(t.object, ox.NamedNode | ox.Literal):
            continue
        if t.predicate.value == layout.DCTERMS_IDENTIFIER:
            build_id = t.object.value
        elif t.predicate.value == layout.SD_DEFAULT_GRAPH:
            default = t.object.value
        elif t.predicate.value == layout.DCTERMS_REPLACES:
            replaced = t.object.value
    return build_id, default, replaced


def publish(dist: Path, url: str, auth: httpx.Auth | None = None, timeout: float = 600.0) -> PublishResult:
    """Publish the build in ``dist`` to the Graph Store Protocol endpoint ``url`` (see the module)."""
    import time

    start = time.perf_counter()
    manifest, store = read_build(dist)
    base, build_id = str(manifest["base"]), str(manifest["build_id"])
    expected = manifest.get("quads")
    loaded_plan = sum(1 for q in store if q.graph_name != ox.NamedNode(base + "id/graph/dataset"))
    if isinstance(expected, int) and loaded_plan != expected:
        raise PublishError(
            f"{dist}: the dump holds {loaded_plan} quads, the build record says {expected}: "
            "Oxigraph's canonical literal forms made distinct literals equal, or the dump is not whole"
        )
    graphs: dict[str, list[ox.Triple]] = {}
    for quad in store:
        name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        graphs.setdefault(name, []).append(ox.Triple(quad.subject, quad.predicate, quad.object))
    default_triples = graphs.pop("", [])
    record = base + layout.PUBLISHED_RECORD_PATH
    target = base + layout.PUBLISHED_BUILD_PATH + build_id
    gsp = GraphStore(url, auth, timeout)
    try:
        old_id, old_default, old_replaced = _previous(gsp.get(record), record)
        if old_default == target:  # the same build again: the graph being served is not overwritten
            target += "/" + hashlib.sha256(str(time.time_ns()).encode()).hexdigest()[:8]
        gsp.put(target, default_triples)
        for name in sorted(graphs):
            gsp.put(name, graphs[name])
        node = ox.NamedNode(record)
        total = len(default_triples) + sum(len(t) for t in graphs.values())
        triples = [
            ox.Triple(node, ox.NamedNode(layout.DCTERMS_IDENTIFIER), ox.Literal(build_id)),
            ox.Triple(node, ox.NamedNode(layout.SD_DEFAULT_GRAPH), ox.NamedNode(target)),
            ox.Triple(node, ox.NamedNode(layout.VOID_TRIPLES), ox.Literal(str(total), datatype=_INTEGER)),
            ox.Triple(
                ox.NamedNode(target),
                ox.NamedNode(layout.VOID_TRIPLES),
                ox.Literal(str(len(default_triples)), datatype=_INTEGER),
            ),
            *(ox.Triple(node, ox.NamedNode(layout.SD_NAMED_GRAPH), ox.NamedNode(n)) for n in sorted(graphs)),
        ]
        if old_default is not None and old_default != target:
            triples.append(ox.Triple(node, ox.NamedNode(layout.DCTERMS_REPLACES), ox.NamedNode(old_default)))
        gsp.put(record, triples)  # the switch
        deleted = None
        if old_replaced is not None and old_replaced not in (target, old_default):
            gsp.delete(old_replaced)
            deleted = old_replaced
    finally:
        gsp.close()
    return PublishResult(
        build_id=build_id,
        default_graph=target,
        named_graphs=tuple(sorted(graphs)),
        quads=total,
        replaced=old_id,
        deleted=deleted,
        seconds=time.perf_counter() - start,
    )


_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
