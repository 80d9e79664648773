"""The build's dumps at ``/dumps/`` and the dataset description at ``/.well-known/void``.

``/dumps/`` lists what the build wrote (its ``manifest.json``: every format plain and gzipped, the
dataset description ``void.ttl``, ``SHA256SUMS``, the manifest itself) as JSON or HTML. ``/dumps/{file}``
serves one of those files, nothing else, with:

* ``Content-Type`` from :mod:`server.protocol.formats` by the file's extension (``application/gzip`` for a
  ``.gz`` file, which is served as the archive it is, so a download keeps its name and bytes);
* ``ETag`` the file's SHA-256 from the manifest, ``Last-Modified`` its modification time,
  ``Content-Length``, ``Content-Disposition: attachment`` with the file name;
* ``304 Not Modified`` on a matching ``If-None-Match`` (or, without one, ``If-Modified-Since``);
* a plain dump asked for by a client that accepts gzip is sent as the build's ``.gz`` twin with
  ``Content-Encoding: gzip`` (and that file's hash as its ETag, ``Vary: Accept-Encoding``), so it is
  never compressed again on the fly under an ETag that names other bytes.

The manifest is read again whenever its file changes (:class:`ManifestCache`), so a rebuild (which swaps the
dump directory in) is served at once.

The dataset description (DCAT 3 and VoID: distributions with byte sizes and SHA-256, the endpoint, the
triple count, the URI space) is written by the build (``mapping.dumps.dataset_graph``) into ``void.ttl``
beside the dumps; :func:`dataset_description` reads it and adds the source text's node (its file name
and SHA-256) from the plan through the store; ``/.well-known/void`` serves it in a negotiated RDF format.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node
from starlette.exceptions import HTTPException

from mapping.layout import (
    CSVW_MEDIA_TYPE,
    DESCRIPTION_FILE,
    GZIP_MEDIA_TYPE,
    MANIFEST_FILE,
    METADATA_FILE,
    SUMS_FILE,
)
from mapping.vocab import Vocab
from server.ops.admission import ADMITTED
from server.protocol import formats as fmts
from server.protocol.canned import json_or_html
from server.protocol.conditional import not_modified
from server.protocol.contract import responses
from server.protocol.head import FileAnswer
from server.protocol.negotiation import accepts_coding, negotiate
from server.protocol.results import XSD_STRING, BlankNode, Iri, Literal, Term, Triple
from server.settings import Settings
from server.stores.interface import Store
from server.web.describe import Site
from server.web.pages import RDF_FORMATS, templates

# Files of the dump directory that are not RDF; their media types are fixed by their formats' specs.
PLAIN_TEXT = "text/plain; charset=utf-8"  # SHA256SUMS, the `sha256sum -c` format
JSON_TYPE = "application/json"
OCTET_STREAM = "application/octet-stream"
CACHE_CONTROL = "no-cache"  # revalidate each time: a rebuild changes the files under the same names


@dataclass(frozen=True)
class DumpEntry:
    """A file the dump directory may serve, with what the manifest says of it."""

    name: str
    size: int | None  # None for the manifest itself, which cannot list its own size
    sha256: str | None
    format: str | None
    gzip: bool
    declared_type: str | None = None  # the media type the manifest gives (e.g. CSVW metadata)

    @property
    def media_type(self) -> str:
        if self.gzip:
            return GZIP_MEDIA_TYPE
        if self.name == SUMS_FILE:
            return PLAIN_TEXT
        if self.name == MANIFEST_FILE:
            return JSON_TYPE
        fmt = fmts.by_extension(Path(self.name).suffix)
        if fmt is not None:
            return fmt.content_type
        return self.declared_type or OCTET_STREAM

    def listing(self, prefix: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": f"{prefix}dumps/{self.name}",
            "media_type": self.media_type.split(";", 1)[0],
            "format": self.format,
            "gzip": self.gzip,
            "bytes": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Manifest:
    build_id: str
    triples: int | None
    source: dict[str, Any]
    entries: dict[str, DumpEntry]

    def twin(self, entry: DumpEntry) -> DumpEntry | None:
        """The gzipped file of the same content as a plain one, if the build wrote it."""
        return None if entry.gzip else self.entries.get(entry.name + ".gz")


def read_manifest(dist_dir: Path) -> Manifest | None:
    """The build's manifest in ``dist_dir``, or None when there is no readable one."""
    try:
        data = json.loads((dist_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    entries: dict[str, DumpEntry] = {}
    for item in data["files"]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        if "/" in name or name.startswith("."):
            continue  # only plain names in the directory itself
        entries[name] = DumpEntry(
            name,
            int(item["bytes"]) if isinstance(item.get("bytes"), int) else None,
            str(item["sha256"]) if isinstance(item.get("sha256"), str) else None,
            str(item["format"]) if isinstance(item.get("format"), str) else None,
            bool(item.get("gzip")),
            _declared_type(item.get("media_type")),
        )
    for name in (SUMS_FILE, MANIFEST_FILE):
        entries.setdefault(name, DumpEntry(name, None, None, None, False))
    source = data.get("source")
    triples = data.get("triples")
    return Manifest(
        build_id=str(data.get("build_id", "")),
        triples=triples if isinstance(triples, int) else None,
        source=source if isinstance(source, dict) else {},
        entries=dict(sorted(entries.items())),
    )


def _declared_type(value: object) -> str | None:
    """A media type from the manifest, only if it is one (``type/subtype``, no parameters or spaces)."""
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", value):
        return value
    return None


# --- conditional requests --------------------------------------------------------------------------


# --- routes ------------------------------------------------------------------------------------------


class ManifestCache:
    """The dump directory's manifest, read again only when the file changes (its inode, mtime, size).

    A rebuild swaps a new directory in, so the manifest is served at once; between rebuilds a request
    costs a ``stat``. Blocking: call :meth:`get` off the event loop.
    """

    def __init__(self, dist_dir: Path) -> None:
        self.dist_dir = dist_dir
        self._key: tuple[int, int, int] | None = None
        self._manifest: Manifest | None = None

    def get(self) -> Manifest | None:
        try:
            stat = os.stat(self.dist_dir / MANIFEST_FILE)
        except OSError:
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._key, self._manifest
        if cached[0] == key:
            return cached[1]
        manifest = read_manifest(self.dist_dir)
        self._key, self._manifest = key, manifest
        return manifest


class DumpRoutes:
    """The routes' handlers, with what they keep between requests (the manifest cache)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.manifests = ManifestCache(settings.dist_dir)
        self.templates = templates()  # read and compiled once, not on the event loop per page

    async def _manifest_or_404(self, request: Request) -> Manifest:
        manifest = await anyio.to_thread.run_sync(self.manifests.get)
        if manifest is None:
            raise HTTPException(
                404, f"no dumps at {request.url.path}: the server has no built dump directory"
            )
        return manifest

    async def dump_index(self, request: Request) -> Response:
        settings = self.settings
        manifest = await self._manifest_or_404(request)
        prefix = Site(settings.base).prefix
        files = [e.listing(prefix) for e in manifest.entries.values()]
        headers = {"Vary": "Accept", "Cache-Control": CACHE_CONTROL}
        if json_or_html(request) is fmts.HTML:
            context = {
                "request": request,
                "prefix": prefix,
                "alternates": [],
                "files": files,
                "build_id": manifest.build_id,
                "triples": manifest.triples,
                "source": manifest.source,
            }
            page: HTMLResponse = self.templates.TemplateResponse(
                request, "dumps.html", context, headers=headers
            )
            return page
        body = {
            "build_id": manifest.build_id,
            "triples": manifest.triples,
            "source": manifest.source,
            "files": files,
        }
        return JSONResponse(body, headers=headers)

    async def dump_file(self, request: Request, name: str) -> Response:
        settings = self.settings
        manifest = await self._manifest_or_404(request)
        entry = manifest.entries.get(name)
        if entry is None:
            raise HTTPException(404, f"no dump file {name!r}")
        chosen = entry
        encoding: str | None = None
        twin = manifest.twin(entry)
        if twin is not None and accepts_coding(request.headers.get("accept-encoding"), "gzip"):
            chosen, encoding = twin, "gzip"
        path = settings.dist_dir / chosen.name
        try:
            stat = await anyio.to_thread.run_sync(os.stat, path)
        except OSError:
            raise HTTPException(404, f"the dump file {name!r} is missing from the dump directory") from None
        headers = {
            "Cache-Control": CACHE_CONTROL,
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "Content-Disposition": f'attachment; filename="{entry.name}"',
        }
        etag = f'"{chosen.sha256}"' if chosen.sha256 else None
        if etag is not None:
            headers["ETag"] = etag
        if twin is not None:
            headers["Vary"] = "Accept-Encoding"
        if encoding is not None:
            headers["Content-Encoding"] = encoding
        if entry.format == "csv" and METADATA_FILE in manifest.entries:
            # CSVW §5.2: a table's metadata found through a Link header.
            headers["Link"] = f'<{METADATA_FILE}>; rel="describedby"; type="{CSVW_MEDIA_TYPE}"'
        request.state.outcome = f"dump {chosen.name}" + (f" as {encoding}" if encoding else "")
        if not_modified(request, etag, stat.st_mtime):
            return Response(
                status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Disposition"}
            )
        return FileAnswer(path, media_type=entry.media_type, headers=headers, stat_result=stat)

    async def well_known_void(self, request: Request) -> Response:
        settings = self.settings
        store: Store = request.app.state.store
        chosen = negotiate(
            request.headers.get("accept"), RDF_FORMATS, format_name=request.query_params.get("format")
        )
        assert chosen.rdflib_name is not None
        rdflib_name = chosen.rdflib_name

        def describe() -> bytes | None:  # parsing, the store query and serialising all block
            graph = dataset_description(settings, store, self.manifests.get())
            return graph.serialize(format=rdflib_name, encoding="utf-8") if len(graph) else None

        body = await anyio.to_thread.run_sync(describe)
        if body is None:
            raise HTTPException(404, "the store holds no dataset description")
        dataset = Vocab(settings.base).thing("dataset")
        request.state.outcome = f"dataset description as {chosen.name}"
        return Response(
            body,
            media_type=chosen.content_type,
            headers={"Vary": "Accept", "Link": f'<{dataset}>; rel="describes"'},
        )


# --- the dataset description ------------------------------------------------------------------------


def _node(term: Term) -> Node:
    if isinstance(term, Iri):
        return URIRef(term.value)
    if isinstance(term, BlankNode):
        return BNode(term.id)
    if isinstance(term, Literal):
        if term.language is not None:
            return RdfLiteral(term.value, lang=term.language)
        if term.datatype == XSD_STRING:
            return RdfLiteral(term.value)
        return RdfLiteral(term.value, datatype=URIRef(term.datatype))
    raise TypeError(f"a dataset description holds no triple terms: {term!r}")


def source_query(settings: Settings) -> str:
    """Everything the plans say of their source texts (file name, SHA-256, size, where to get it)."""
    source_text = Vocab(settings.base).term("SourceText")
    return f"CONSTRUCT {{ ?source ?p ?o }} WHERE {{ ?source a <{source_text}> ; ?p ?o }}"


def dataset_description(settings: Settings, store: Store, manifest: Manifest | None = None) -> Graph:
    """The DCAT/VoID description of the dataset ``{base}id/dataset`` (blocking: call it off the loop).

    The build's own description (``void.ttl`` in the dump directory, which describes exactly the files
    served at ``/dumps/``, its literals as written: the store's copy has Oxigraph's canonical datatypes,
    ``xsd:integer`` for ``dcat:byteSize``), with the source text's node read from the plan through the
    store. Empty when the build wrote no description. ``manifest``: the dump directory's, if already read.
    """
    graph = Graph()
    for prefix, namespace in Vocab(settings.base).prefixes().items():
        graph.bind(prefix, namespace, override=True)
    graph.bind("spdx", "http://spdx.org/rdf/terms#")
    if manifest is None:
        manifest = read_manifest(settings.dist_dir)
    if manifest is None or DESCRIPTION_FILE not in manifest.entries:
        return graph
    try:
        graph.parse(settings.dist_dir / DESCRIPTION_FILE, format="turtle")
    except (OSError, SyntaxError, ValueError):
        return Graph()
    outcome = store.query(source_query(settings), timeout=settings.query_timeout)
    triples = outcome.value if isinstance(outcome.value, tuple) else ()
    for triple in triples:
        if isinstance(triple, Triple):
            graph.add((_node(triple.subject), _node(triple.predicate), _node(triple.object)))
    return graph


# What a dump file may be served as (DumpEntry.media_type): RDF formats, gzip, checksums, manifest.
DUMP_MEDIA_TYPES = sorted(
    {f.media_type for f in fmts.FORMATS if f.carries(fmts.Kind.GRAPH)}
    | {GZIP_MEDIA_TYPE, PLAIN_TEXT, JSON_TYPE, OCTET_STREAM}
    | {fmts.CSV.media_type, CSVW_MEDIA_TYPE}  # the CSV tables and their CSVW metadata (mapping.tables)
)


def make_router(settings: Settings) -> APIRouter:
    prefix = Site(settings.base).prefix
    router = APIRouter(tags=["dumps and dataset description"])
    routes = DumpRoutes(settings)
    router.add_api_route(
        f"{prefix}dumps/",
        routes.dump_index,
        methods=["GET"],
        name="dumps",
        summary="The build's dump files: names, formats, sizes, SHA-256 (JSON or HTML)",
        response_class=Response,
        responses=responses(["application/json", "text/html"], 404, 406),
    )
    router.add_api_route(
        f"{prefix}dumps/{{name}}",
        routes.dump_file,
        methods=["GET"],
        name="dump_file",
        summary="One dump file (ETag, Last-Modified, 304, Content-Disposition; gzip when accepted)",
        response_class=Response,
        responses=responses(DUMP_MEDIA_TYPES, 404, also={304: {}}),
    )
    router.add_api_route(
        f"{prefix}.well-known/void",
        routes.well_known_void,
        methods=["GET"],
        dependencies=[ADMITTED],
        name="void",
        summary="The dataset description (VoID and DCAT 3): distributions, endpoint, triples, source hash",
        response_class=Response,
        responses=responses([f.media_type for f in RDF_FORMATS], 404, 406, 503),
    )
    return router
