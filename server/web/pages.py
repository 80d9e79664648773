"""Linked-data pages: every IRI the graph mints under the base dereferences on this server.

The pattern (one, documented in docs/ARCHITECTURE.md): **303 See Other from the thing to a document
about it.** A thing ``{base}id/task/1`` or a vocabulary term ``{base}def/Task`` is not a web page, so
``GET`` on it answers ``303`` with ``Location: {base}doc/id/task/1`` (``{base}doc/def/Task``). The
document is negotiated on ``Accept`` among Turtle, JSON-LD, N-Triples, RDF/XML and HTML (the formats of
:mod:`server.protocol.formats`, the negotiation of :mod:`server.protocol.negotiation`), answers with
``Vary: Accept`` and
``Content-Location`` naming the format-specific variant (``…/doc/id/task/1.ttl``, ``.jsonld``, ``.nt``,
``.rdf``, ``.html``), each of which is also a URL of its own. Every document carries ``Link`` headers
``rel="alternate"`` to each variant (and HTML the same as ``<link rel="alternate">``). An IRI the graph
knows nothing about answers ``404`` with an HTML page that says what the IRI patterns are.

``{base}source/{file name}`` serves the plan text the spans point into, byte for byte, when the file
named by the graph is at hand and its SHA-256 matches the graph's: a ``.txt`` seed from the seeds
directory; the text extracted from a PDF, HTML or DOCX seed from the dumps' ``sources/`` directory
(``{base}source/plan.pdf.txt``); and the original, which the build keeps there too
(``{base}source/plan.pdf``, so that
``…/source/plan.pdf#page=5`` opens the page a span sits on). Every file answers with its SHA-256 as its
``ETag`` and ``Repr-Digest`` (RFC 9530); an original is served sandboxed (``Content-Security-Policy:
sandbox``), since a saved web page may hold scripts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from mapping.layout import SOURCES_DIR
from mapping.vocab import Vocab
from server.errors import NotAcceptable, StoreFailure
from server.ops.admission import ADMITTED
from server.protocol.conditional import not_modified
from server.protocol.contract import responses
from server.protocol.formats import HTML, JSON_LD, N_TRIPLES, RDF_XML, TURTLE, Format
from server.protocol.negotiation import negotiate
from server.protocol.results import BlankNode, Iri, Literal, Solutions, Term, solutions_table
from server.settings import Settings
from server.stores.interface import FormatChoice, Store
from server.web import describe, legacy
from server.web.describe import DCAT, DCTERMS, IANA_MEDIA_TYPES, SPDX, Node, Row, Select, Site, sparql_iri

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"

RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSON_LD, N_TRIPLES, RDF_XML)
# Server preference: Turtle when the client does not care (Accept: */* or none); browsers ask for HTML.
DOCUMENT_OFFERS: tuple[Format, ...] = (*RDF_FORMATS, HTML)
AREAS = ("id", "def")

SECTION_TITLES = {
    "target": ("Targets", "目标"),
    "org": ("Organisations", "机构"),
    "place": ("Places", "地点"),
    "project": ("Named projects", "重点项目"),
    "task": ("Tasks", "重点工作"),
    "suborg": ("Parent and sub-organisations", "上下级机构"),
}


class Data(Protocol):
    """What the pages need from the store: rows of a SELECT, a CONSTRUCT serialised in a format."""

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> Sequence[Row]: ...

    def graph(self, query: str, fmt: Format) -> bytes: ...


def node(term: Term) -> Node:
    """A result term of the store as the page code sees it (xsd:string left implicit)."""
    if isinstance(term, Iri):
        return Node("iri", term.value)
    if isinstance(term, BlankNode):
        return Node("bnode", term.id)
    if isinstance(term, Literal):
        datatype = None if term.language or term.datatype == describe.XSD + "string" else term.datatype
        return Node("literal", term.value, term.language, datatype)
    return Node("literal", repr(term))


def term(value: Node) -> Term:
    if value.kind == "iri":
        return Iri(value.value)
    if value.kind == "bnode":
        return BlankNode(value.value)
    if value.lang:
        return Literal(value.value, "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", value.lang)
    return Literal(value.value, value.datatype or describe.XSD + "string")


StoreRef = Store | Callable[[], Store | None]
"""The store, or a way to get it when a request comes (``create_app`` opens its store in the lifespan)."""


class StoreData:
    """``Data`` over the server's store interface (server.stores.oxigraph.Store), whatever backend it is."""

    def __init__(self, store: StoreRef, base: str, timeout: float | None = None) -> None:
        self._store = store
        self.base = base
        self.timeout = timeout

    @property
    def store(self) -> Store:
        current = self._store() if callable(self._store) else self._store
        if current is None:
            raise StoreFailure("the store is not open")
        return current

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[Row]:
        outcome = self.store.query(
            query,
            base_iri=self.base,
            timeout=self.timeout,
            bindings={k: term(v) for k, v in (bindings or {}).items()} or None,
        )
        if not isinstance(outcome.value, Solutions):
            raise StoreFailure("a page query did not answer with solutions")
        return [{k: node(v) for k, v in row.items()} for row in solutions_table(outcome.value)]

    def graph(self, query: str, fmt: Format) -> bytes:
        outcome = self.store.query(
            query, base_iri=self.base, timeout=self.timeout, formats=FormatChoice(results=None, graph=fmt)
        )
        body = outcome.body_bytes()
        if body is None:
            raise StoreFailure("a page query did not answer with a graph")
        return body


@dataclass(frozen=True)
class Alternate:
    href: str
    media_type: str
    label: str


def templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(TEMPLATES_DIR))


def document_query(iri: str) -> str:
    """The triples a document about ``iri`` holds: what it says, what points at it, and its parts
    (resources under its own path, e.g. a span's ``…/quote`` and ``…/position`` selectors)."""
    ref = sparql_iri(iri)
    sub = describe.sparql_string(iri + "/")
    return f"""
        CONSTRUCT {{ {ref} ?p ?o . ?s ?q {ref} . ?part ?pp ?po }} WHERE {{
          {{ {ref} ?p ?o }}
          UNION {{ ?s ?q {ref} }}
          UNION {{ {ref} ?link ?part . ?part ?pp ?po FILTER(isIRI(?part) && STRSTARTS(STR(?part), {sub})) }}
        }}"""


TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
# The originals served (mapping.ingest.model.Format but plain text; not imported: the ingest package
# would load the PDF reader into every server process).
ORIGINAL_MEDIA_TYPES = (
    "application/pdf",
    "text/html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


@dataclass(frozen=True)
class SourceFile:
    """A file the graph was built from: its node, its name (``pk:fileName`` of a source text, the
    ``dcterms:title`` of an original) and its characters; an original (PDF, web page, Word document)
    has its bytes and media type instead of characters."""

    name: str
    text: str
    iri: str = ""
    data: bytes | None = None  # an original's bytes (``text`` is then empty)
    media_type: str = TEXT_MEDIA_TYPE

    @cached_property
    def body(self) -> bytes:
        return self.text.encode("utf-8") if self.data is None else self.data

    @cached_property
    def digest(self) -> bytes:
        """The SHA-256 of ``body``, worked out once (every download answers with it)."""
        return hashlib.sha256(self.body).digest()


def _matching(name: str, sha: str, directories: Sequence[Path]) -> bytes | None:
    """The bytes of the file ``name`` in the first of ``directories`` holding one whose SHA-256 is ``sha``."""
    for directory in directories:
        try:
            data = (directory / name).read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == sha.lower():
            return data
    return None


def load_source_files(
    select: Select, site: Site, seeds_dirs: Sequence[Path], dist_dir: Path | None = None
) -> dict[str, SourceFile]:
    """The files the graph was built from (by the IRI of their node) that are at hand and whose SHA-256
    matches the graph's: the source texts the offsets point into (a ``.txt`` seed in ``seeds_dirs``, a
    text extracted from a published original in ``dist_dir/sources/``) and the originals (kept there
    by the build, else in ``seeds_dirs``).

    When a source text is missing or differs, passages fall back to the quote, prefix and suffix stored
    in the graph (the page says so).
    """
    rows = select(
        f"SELECT ?source ?name ?sha WHERE {{ ?source a <{site.terms}SourceText> ; "
        f"<{site.terms}fileName> ?name ; <{site.terms}sha256> ?sha }} ORDER BY ?source"
    )
    texts = [*seeds_dirs, *([dist_dir / SOURCES_DIR] if dist_dir is not None else [])]
    found: dict[str, SourceFile] = {}
    for row in rows:
        name = Path(row["name"].value).name
        data = _matching(name, row["sha"].value, texts)
        if data is not None:
            found[row["source"].value] = SourceFile(name, data.decode("utf-8"), row["source"].value)
    originals = select(
        f"SELECT ?original ?name ?sha ?type WHERE {{ ?text a <{site.terms}ExtractedText> ; "
        f"<{describe.PROV}wasDerivedFrom> ?original . ?original <{DCTERMS}title> ?name ; "
        f"<{DCAT}mediaType> ?type ; <{SPDX}checksum>/<{SPDX}checksumValue> ?sha }} ORDER BY ?original"
    )
    for row in originals:
        name, media_type = Path(row["name"].value).name, row["type"].value.removeprefix(IANA_MEDIA_TYPES)
        if media_type not in ORIGINAL_MEDIA_TYPES:
            continue
        data = _matching(name, row["sha"].value, texts[::-1])
        if data is not None:
            found[row["original"].value] = SourceFile(name, "", row["original"].value, data, media_type)
    return found


SourceRef = Mapping[str, SourceFile] | Callable[[], Mapping[str, SourceFile]] | None


class Pages:
    """The linked-data routes over one data source; state is only what was read at start."""

    def __init__(self, site: Site, data: Data, source: SourceRef) -> None:
        self.site = site
        self.data = data
        self._source = source
        self._sources: Mapping[str, SourceFile] | None = None if callable(source) else (source or {})
        self.templates = templates()

    @property
    def sources(self) -> Mapping[str, SourceFile]:
        """The source files by their node's IRI, looked up on first use (the store may open after the
        routes are made)."""
        if self._sources is None and callable(self._source):
            self._sources = self._source()
        return self._sources or {}

    def source_for(self, span: str) -> str | None:
        """The text a span of a plan (``{base}id/plan/{slug}/span/…``) points into, if at hand."""
        slug = self.site.plan_slug(span)
        node = f"{self.site.things}plan/{slug}/source" if slug else f"{self.site.things}source"
        found = self.sources.get(node)
        return found.text if found else None

    def source_download(self, request: Request, name: str) -> Response:
        """``{base}source/{file name}``: a plan text byte for byte, as the offsets count it, or the
        original it was extracted from."""
        source = next((s for s in self.sources.values() if s.name == name), None)
        if source is None:
            return Response(f"no source file {name!r} here\n", status_code=404, media_type=TEXT_MEDIA_TYPE)
        body = source.body
        headers = {
            "ETag": f'"{source.digest.hex()}"',
            "Repr-Digest": f"sha-256=:{base64.b64encode(source.digest).decode('ascii')}:",
            "Content-Disposition": f'inline; filename="{source.name}"',
        }
        if source.data is None:
            media_type: str | None = source.media_type
        else:  # an original: never run a saved page's scripts on this origin; its own charset, if any
            media_type = None
            headers["Content-Type"] = source.media_type
            headers["Content-Security-Policy"] = "sandbox"
            headers["X-Content-Type-Options"] = "nosniff"
        if not_modified(request, headers["ETag"], None):
            headers.pop("Content-Type", None)
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)

    # --- helpers ----------------------------------------------------------------------------

    def iri_of(self, area: str, path: str) -> str:
        return f"{self.site.base}{area}/{path}"

    def variant(self, area: str, path: str, fmt: Format) -> str:
        """The URL of one format of a document. The namespace IRI itself (``{base}def/``, the
        ontology) has an empty path, so its variants are named by ``?format=``."""
        doc = f"{self.site.prefix}doc/{area}/{path}"
        return f"{doc}.{fmt.extension}" if path else f"{doc}?format={fmt.name}"

    def alternates(self, area: str, path: str) -> list[Alternate]:
        return [Alternate(self.variant(area, path, f), f.media_type, f.label) for f in DOCUMENT_OFFERS]

    def link_header(self, alternates: Sequence[Alternate], iri: str) -> str:
        links = [f'<{a.href}>; rel="alternate"; type="{a.media_type}"' for a in alternates]
        links.append(f'<{iri}>; rel="about"')
        return ", ".join(links)

    def context(self, request: Request, **values: object) -> dict[str, object]:
        return {"request": request, "prefix": self.site.prefix, "alternates": [], **values}

    def not_found(self, request: Request, iri: str) -> HTMLResponse:
        guess = iri.rstrip("/").rsplit("/", 1)[-1]
        suggestions = self.suggest(iri)
        return self.templates.TemplateResponse(
            request,
            "notfound.html",
            self.context(
                request,
                iri=iri,
                guess=guess,
                things=self.site.things,
                terms=self.site.terms,
                suggestions=suggestions,
            ),
            status_code=404,
        )

    def suggest(self, iri: str) -> list[describe.Link]:
        """Known IRIs of the same kind (``…/task/…``), so a mistyped number leads somewhere."""
        parent = iri.rstrip("/").rsplit("/", 1)[0] + "/"
        if not self.site.is_local(parent) or parent in (self.site.things, self.site.terms):
            return []
        rows = self.data.select(
            f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && "
            f"STRSTARTS(STR(?s), {describe.sparql_string(parent)})) }} LIMIT 12"
        )
        linker = describe.Linker(self.site, self.data.select)
        found = sorted((r["s"].value for r in rows), key=describe._natural)
        linker.prefetch(found)
        return [linker.link(i) for i in found]

    # --- the routes ---------------------------------------------------------------------------

    async def gone_or_moved(
        self, request: Request, area: str, path: str, doc: str = "", ext: str = ""
    ) -> Response:
        """A 301 to the corpus IRI of a legacy one-plan IRI (server/web/legacy.py; ``doc``: ``doc/`` for
        a document, ``ext`` its format's extension), else the 404 page."""
        new = await asyncio.to_thread(legacy.moved, self.data.select, self.site, area, path)
        if new is None:
            return await asyncio.to_thread(self.not_found, request, self.iri_of(area, path))
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{self.site.prefix}{doc}id/{new}{ext}{query}", status_code=301)

    async def thing(self, request: Request, area: str, path: str) -> Response:
        iri = self.iri_of(area, path)
        if not await asyncio.to_thread(describe.exists, self.data.select, iri):
            return await self.gone_or_moved(request, area, path)
        location = f"{self.site.prefix}doc/{area}/{path}"
        return RedirectResponse(
            location, status_code=303, headers={"Link": f'<{location}>; rel="describedby"'}
        )

    async def document(self, request: Request, area: str, path: str) -> Response:
        fmt: Format | None = None
        for offer in DOCUMENT_OFFERS:
            if path.endswith("." + offer.extension):
                fmt, path = offer, path[: -len(offer.extension) - 1]
                break
        iri = self.iri_of(area, path)
        if not await asyncio.to_thread(describe.exists, self.data.select, iri):
            extension = f".{fmt.extension}" if fmt is not None else ""
            return await self.gone_or_moved(request, area, path, doc="doc/", ext=extension)
        headers = {}
        if fmt is None:
            fmt = self.negotiate(request)
            if "format" not in request.query_params:
                headers["Vary"] = "Accept"
                headers["Content-Location"] = self.variant(area, path, fmt)
        alternates = self.alternates(area, path)
        headers["Link"] = self.link_header(alternates, iri)
        if fmt is HTML:
            entity = await asyncio.to_thread(
                describe.describe, self.site, self.data.select, iri, self.source_for
            )
            if entity is None:
                return await asyncio.to_thread(self.not_found, request, iri)
            return self.templates.TemplateResponse(
                request,
                "entity.html",
                self.context(request, entity=entity, alternates=alternates, section_titles=SECTION_TITLES),
                headers=headers,
            )
        body = await asyncio.to_thread(self.data.graph, document_query(iri), fmt)
        return Response(body, media_type=fmt.content_type, headers=headers)

    def negotiate(self, request: Request) -> Format:
        name = request.query_params.get("format")
        if name:
            chosen = next((f for f in DOCUMENT_OFFERS if f.name == name.lower()), None)
            if chosen is None:
                raise NotAcceptable(DOCUMENT_OFFERS, f"unknown format {name!r}")
            return chosen
        return negotiate(request.headers.get("accept"), DOCUMENT_OFFERS)


# The 404 of an IRI path: the HTML page naming it; a path no route matches (a control character in it,
# which a path parameter cannot hold) is the app's problem document.
NOT_FOUND_TYPES: dict[str, Any] = {HTML.media_type: {}, "application/problem+json": {}}


def make_router(site: Site, data: Data, source: SourceRef) -> APIRouter:
    """The routes under the base's path: ``id/…`` and ``def/…`` (303), ``doc/…`` (documents) and
    ``source/{file name}`` (the plan text the offsets point into)."""
    pages = Pages(site, data, source)
    router = APIRouter(tags=["linked data"])
    p = site.prefix

    def thing_route(area: str) -> Callable[[Request, str], object]:
        async def route(request: Request, path: str) -> Response:
            return await pages.thing(request, area, path)

        route.__name__ = f"dereference_{area}"
        return route

    for area in AREAS:
        router.add_api_route(
            f"{p}{area}/{{path:path}}",
            thing_route(area),
            methods=["GET"],
            dependencies=[ADMITTED],
            summary=f"Dereference an IRI under {{base}}{area}/ (303 to its document)",
            response_class=Response,
            status_code=303,
            responses=responses(None, 503, also={404: {"content": NOT_FOUND_TYPES}}),
        )

    async def document(request: Request, area: str, path: str) -> Response:
        if area not in AREAS:
            return await asyncio.to_thread(pages.not_found, request, f"{site.base}{area}/{path}")
        return await pages.document(request, area, path)

    router.add_api_route(
        f"{p}doc/{{area}}/{{path:path}}",
        document,
        methods=["GET"],
        dependencies=[ADMITTED],
        summary="The document about a thing or term: RDF (Turtle, JSON-LD, N-Triples, RDF/XML) or HTML",
        response_class=Response,
        responses=responses(
            [f.media_type for f in DOCUMENT_OFFERS], 406, 503, also={404: {"content": NOT_FOUND_TYPES}}
        ),
    )

    async def source_file(request: Request, name: str) -> Response:
        return await asyncio.to_thread(pages.source_download, request, name)

    router.add_api_route(
        f"{p}source/{{name}}",
        source_file,
        methods=["GET"],
        dependencies=[ADMITTED],
        summary=(
            "The source text of a plan, as shipped or as extracted from its original (the offsets of "
            "every span count its code points), or that original (PDF, web page, Word document)"
        ),
        response_class=Response,
        responses=responses(
            ["text/plain", *ORIGINAL_MEDIA_TYPES], also={304: {}, 404: {"content": {"text/plain": {}}}}
        ),
    )
    return router


# Where the source text is looked for (its name and SHA-256 come from the graph): the working
# directory's seeds/ (``make run``) and the one beside the installed package (editable installs).
SEEDS_DIRS = (Path("seeds"), Path(__file__).resolve().parents[2] / "seeds")


def find_source_files(select: Select, site: Site, dist_dir: Path | None = None) -> dict[str, SourceFile]:
    return load_source_files(select, site, SEEDS_DIRS, dist_dir)


def router(settings: Settings, store: StoreRef) -> APIRouter:
    """The linked-data routes for ``create_app``:
    ``app.include_router(pages.router(settings, lambda: app.state.store))``."""
    site = Site(settings.base, tuple(Vocab(settings.base).prefixes().items()))
    data = StoreData(store, settings.base, settings.query_timeout)
    return make_router(site, data, lambda: find_source_files(data.select, site, settings.dist_dir))
