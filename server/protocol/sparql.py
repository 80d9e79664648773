"""The SPARQL 1.1 Protocol at ``/sparql``: query by GET, POST form or POST ``application/sparql-query``.

The route only reads the request; the work is plain functions: :func:`read_request` turns an HTTP
request into a :class:`QueryRequest` (or raises a protocol error), :func:`run_query` checks and
evaluates it off the event loop, :func:`service_description` describes the endpoint. Updates are
refused (403); without a query, GET answers with the SPARQL Service Description, or with the query
page when the web front end has installed one (``app.state.query_page``) and the client prefers HTML.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import math
import re
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from mapping.vocab import SD, VOID
from server.errors import (
    BadRequest,
    InvalidGraphIri,
    NotAcceptable,
    QueryTimeout,
    QueryTooLong,
    RequestTooLarge,
    UnsupportedMediaType,
    UpdateRefused,
)
from server.ops.admission import client_for, gone_while_waiting
from server.ops.fairness import Limiter
from server.ops.priority import run_in_background
from server.protocol import formats as fmts
from server.protocol.contract import responses
from server.protocol.formats import Format, Kind
from server.protocol.negotiation import negotiate
from server.protocol.querystring import parse_qsl
from server.protocol.results import NOT_IN_IRI, Term
from server.protocol.safety import check_query, mentions_service, silence_refused_services
from server.settings import Settings
from server.stores.cache import AnswerCache
from server.stores.interface import FormatChoice, QueryOptions, QueryOutcome, Store

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

QueryPage = Callable[[Request], Awaitable[Response]]

_READ_ONLY = "this endpoint is read-only: SPARQL Update is refused"
_SINGLE_VALUED = ("timeout", "format")


@dataclass(frozen=True)
class QueryRequest:
    query: str
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    timeout: float | None = None  # what the client asked for (never more than the server's limit)
    format_name: str | None = None  # ?format=, overriding Accept
    # Typed values for variables (the canned queries' parameters): the store writes them into the
    # text only as escaped terms (server.stores.querytext.with_bindings), never as the client's text.
    bindings: Mapping[str, Term] = field(default_factory=dict)
    base_iri: str | None = None  # for relative IRIs (canned queries write `PREFIX pk: <def/>`)


def multi_params(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Each parameter name with every value it is given, in order."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise BadRequest(f"the {name!r} parameter is given {len(values)} times; give it once")
    return values[0] if values else None


def _timeout(raw: str | None, limit: float) -> float:
    if raw is None:
        return limit
    try:
        seconds = float(raw)
    except ValueError:
        raise BadRequest(f"timeout={raw!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise BadRequest(f"timeout={raw!r} must be a positive number of seconds")
    return min(seconds, limit)


async def read_body(request: Request, limit: int) -> bytes:
    """A request's body, refused (413) past ``limit`` bytes, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"the request body is {declared} bytes; the limit is {limit}", limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"the request body is larger than the limit of {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _text(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the {what} is not UTF-8: {exc}") from None


def _url_odd(query: str) -> bool:
    r"""Whether ``query`` holds what urlsplit strips or cuts from a URL: a fragment, a tab or line end,
    or a C0 control or space at its end (the regex ``[#\t\r\n]|[\x00-\x20]$``, which tried both
    alternatives at every position: ~0.1 ms for the 2 kB query string of a canned query, on every GET
    of /sparql; tests/test_url_query.py compares the two)."""
    return (
        "#" in query or "\t" in query or "\r" in query or "\n" in query or (query != "" and query[-1] <= " ")
    )


def url_query(request: Request) -> str:
    """``request.url.query`` without building the request's URL (a host header parsed, the URL joined
    and split again: 2% of a one-subject lookup's CPU): the query string as Starlette decodes it, and
    through ``request.url`` whenever the URL's parser would read it differently."""
    query = plain_query_string(request.scope)
    return request.url.query if query is None else query


def plain_query_string(scope: Scope) -> str | None:
    """The query string of ``scope`` as Starlette decodes it; None when the URL's parser would read it
    differently (:func:`url_query` then builds the URL)."""
    query: str = scope.get("query_string", b"").decode()
    return None if _url_odd(query) else query


def read_get(query_string: str, settings: Settings) -> QueryRequest | None:
    """The query of a protocol GET (or HEAD) whose URL's query string is ``query_string``, as
    :func:`read_request` reads it; None without a query (the service description)."""
    params = multi_params(parse_qsl(query_string))
    if "update" in params:
        raise UpdateRefused(_READ_ONLY)
    query = _single(params, "query")
    if query is None:
        # The description's timeout= is a positive number on every GET: checked though unused.
        _timeout(_single(params, "timeout"), settings.query_timeout)
        return None
    return _query_request(query, params, settings)


async def read_request(request: Request, settings: Settings) -> QueryRequest | None:
    """The query of a protocol request; None for a GET without a query (the service description)."""
    if request.method in ("GET", "HEAD"):
        read: QueryRequest | None = request.scope.get(READ_REQUEST)
        return read if read is not None else read_get(url_query(request), settings)
    url_params = multi_params(parse_qsl(url_query(request)))
    if "update" in url_params:
        raise UpdateRefused(_READ_ONLY)
    params = url_params
    query: str | None
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == SPARQL_UPDATE:
        raise UpdateRefused(_READ_ONLY)
    if media_type not in (FORM, SPARQL_QUERY):
        shown = media_type or "no media type"
        raise UnsupportedMediaType(
            f"a SPARQL query is POSTed as {SPARQL_QUERY} or {FORM}, not {shown}",
            supported=[SPARQL_QUERY, FORM],
        )
    body = await read_body(request, settings.max_body_bytes)
    both = BadRequest("the query is given both in the URL and in the request body; give it once")
    if media_type == SPARQL_QUERY:
        if "query" in url_params:
            raise both
        query = _text(body, "query")
    else:
        form = multi_params(parse_qsl(_text(body, "form")))
        if "update" in form:
            raise UpdateRefused(_READ_ONLY)
        query = _single(form, "query")
        if query is not None and "query" in url_params:
            raise both
        if query is None:
            raise BadRequest("a POSTed form carries the query in its 'query' field; it has none")
        # The form's own timeout= or format= wins over the URL's; graph IRIs from both count.
        params = {
            **url_params,
            **{k: v if k in _SINGLE_VALUED else url_params.get(k, []) + v for k, v in form.items()},
        }
    return _query_request(query, params, settings)


def _query_request(query: str, params: Mapping[str, list[str]], settings: Settings) -> QueryRequest:
    if not query.strip():
        raise BadRequest("the query is empty")
    if len(query) > settings.max_query_length:
        raise QueryTooLong(
            f"the query is {len(query)} characters long; the limit is {settings.max_query_length}",
            limit=settings.max_query_length,
        )
    return QueryRequest(
        query=query,
        default_graph_uris=_graph_iris(params, "default-graph-uri"),
        named_graph_uris=_graph_iris(params, "named-graph-uri"),
        timeout=_timeout(_single(params, "timeout"), settings.query_timeout),
        format_name=_single(params, "format"),
    )


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _graph_iris(params: Mapping[str, list[str]], name: str) -> tuple[str, ...]:
    """The values of a graph parameter, each an absolute IRI; :class:`InvalidGraphIri` names the first
    that is not, and why."""
    for value in params.get(name, []):
        bad = NOT_IN_IRI.search(value)
        if not value:
            problem = "is empty"
        elif _SCHEME.match(value) is None:
            problem = "is not an absolute IRI: it has no scheme (such as http:)"
        elif bad is not None:
            problem = f"is not an IRI: it holds {bad.group()!r}, which an IRI cannot hold"
        elif _BAD_PERCENT.search(value):
            problem = "is not an IRI: a '%' is not followed by two hexadecimal digits"
        else:
            continue
        shown = value if len(value) <= 80 else value[:80] + "…"
        raise InvalidGraphIri(f"parameter {name!r}: {shown!r} {problem}", parameter=name, value=shown)
    return tuple(params.get(name, []))


@lru_cache(maxsize=256)
def choose_formats(accept: str | None, format_name: str | None) -> FormatChoice:
    """The format for each kind of answer; 406 at once if the client takes neither kind.

    Remembered per (Accept, format=) pair, the most recent 256: clients send few distinct headers, and
    parsing one and weighing every format against it was 7% of a one-subject lookup's time. A 406 is
    not remembered (an exception); a choice is immutable.
    """

    def one(kind: Kind) -> Format | None:
        try:
            return negotiate(accept, fmts.formats_for(kind), format_name=format_name)
        except NotAcceptable:
            return None

    choice = FormatChoice(results=one(Kind.RESULTS), graph=one(Kind.GRAPH))
    if choice.results is None and choice.graph is None:
        offers = fmts.formats_for(Kind.RESULTS) + fmts.formats_for(Kind.GRAPH)
        if format_name is not None:
            raise NotAcceptable(offers, f"unknown format {format_name!r}")
        raise NotAcceptable(offers, f"no query result format is acceptable to {accept!r}")
    return choice


def run_query(
    store: Store,
    settings: Settings,
    req: QueryRequest,
    choice: FormatChoice,
    cancel: threading.Event | None = None,
) -> QueryOutcome:
    """Check and evaluate a query (blocking: call it in a worker thread)."""
    # SERVICE SILENT to a host not allowed: the spec's silent failure, without any connection.
    sparql = silence_refused_services(req.query, settings.allowed_service_hosts, base_iri=req.base_iri)
    check_query(sparql, settings.allowed_service_hosts, base_iri=req.base_iri)
    options = _options(settings, req, choice)
    options["timeout"] = req.timeout
    options["cancel"] = cancel
    return store.query(sparql, **options)


def _options(settings: Settings, req: QueryRequest, choice: FormatChoice) -> QueryOptions:
    """The store options a request gives, in a worker and in the bounded lane alike (the lane has
    no time limit or cancel: its work is bounded)."""
    return QueryOptions(
        default_graph_uris=req.default_graph_uris,
        named_graph_uris=req.named_graph_uris,
        formats=choice,
        max_rows=settings.max_result_rows,
        base_iri=req.base_iri,
        bindings=req.bindings,
    )


def endpoint_url(request: Request) -> str:
    """The URL of the endpoint as the request reached it (scheme, host, port and path; no query)."""
    return scope_endpoint_url(request.scope)


def scope_endpoint_url(scope: Scope) -> str:
    """:func:`endpoint_url` of the request ``scope`` describes."""
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    return _endpoint_url(
        scope.get("scheme", "http"), None if server is None else tuple(server), scope["path"], host
    )


@lru_cache(maxsize=256)
def _endpoint_url(scheme: str, server: tuple[str, int] | None, path: str, host: bytes | None) -> str:
    """:func:`endpoint_url` from what Starlette builds a request's URL from (its first Host header, the
    scheme, the server and the path), remembered for the most recent 256: building the URL and
    dropping its query was 4% of a one-subject lookup's time."""
    headers = [] if host is None else [(b"host", host)]
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": server,
        "path": path,
        "query_string": b"",
        "headers": headers,
    }
    return str(URL(scope=scope).replace(query="", fragment=""))


def service_description(settings: Settings, store: Store, endpoint_iri: str | None = None) -> Graph:
    """The SPARQL 1.1 Service Description of ``endpoint_iri`` (the URL the request reached; without
    one, the site base's ``sparql``), with no blank nodes: each named graph is an ``sd:NamedGraph``
    node of its own, named by exactly one ``sd:name``."""
    iri = endpoint_iri or settings.base + "sparql"
    endpoint = URIRef(iri)
    dataset = URIRef(iri + "#dataset")
    default_graph = URIRef(iri + "#default-graph")
    g = Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    g.add((endpoint, RDF.type, SD.Service))
    g.add((endpoint, SD.endpoint, endpoint))
    g.add((endpoint, SD.supportedLanguage, SD.SPARQL11Query))
    if settings.allowed_service_hosts:
        g.add((endpoint, SD.feature, SD.BasicFederatedQuery))
    for f in fmts.FORMATS:
        if f.iri and (f.carries(Kind.RESULTS) or f.carries(Kind.GRAPH)):
            g.add((endpoint, SD.resultFormat, URIRef(f.iri)))
    description = store.describe_dataset()
    g.add((endpoint, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default_graph))
    g.add((default_graph, RDF.type, SD.Graph))
    g.add((default_graph, VOID.triples, Literal(description.default_graph_triples, datatype=XSD.integer)))
    for name in description.named_graphs:
        node = URIRef(f"{iri}#named-graph-{hashlib.sha256(name.encode()).hexdigest()[:16]}")
        g.add((dataset, SD.namedGraph, node))
        g.add((node, RDF.type, SD.NamedGraph))
        g.add((node, SD.name, URIRef(name)))
    return g


# A graph in a dataset format is the dataset's default graph: N-Triples is valid N-Quads and Turtle
# valid TriG. rdflib refuses a lone graph as N-Quads (a 500) and writes it as TriG in a blank-node graph.
_AS_DEFAULT_GRAPH = {"nquads": "nt", "trig": "turtle"}


def serialize_description(settings: Settings, store: Store, fmt: Format, endpoint: str) -> bytes:
    """The service description of the endpoint at ``endpoint`` in ``fmt`` (any graph or dataset format)."""
    assert fmt.rdflib_name is not None
    name = _AS_DEFAULT_GRAPH.get(fmt.rdflib_name, fmt.rdflib_name)
    return service_description(settings, store, endpoint).serialize(format=name, encoding="utf-8")


def _note(request: Request, text: str) -> None:
    """What the access log says about the outcome of this request."""
    request.state.outcome = text


async def sparql_endpoint(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    req = await read_request(request, settings)
    if req is None:
        return await describe_endpoint(request, settings)
    return await answer_protocol(request, req)


async def answer_protocol(request: Request, req: QueryRequest) -> Response:
    """The answer to a protocol request that carries a query (what :func:`read_request` read)."""
    # Relative IRIs in the query are resolved against the endpoint's URL (SPARQL 1.1 Query, 4.1.1.3).
    return await answer(request, dataclasses.replace(req, base_iri=endpoint_url(request)))


async def describe_endpoint(request: Request, settings: Settings) -> Response:
    """A GET without a query: the query page for a browser that has one, else the Service Description."""
    store: Store = request.app.state.store
    endpoint = endpoint_url(request)
    accept = request.headers.get("accept")
    page: QueryPage | None = getattr(request.app.state, "query_page", None)
    offers = fmts.formats_for(Kind.GRAPH) + ((fmts.HTML,) if page is not None else ())
    chosen = negotiate(accept, offers, format_name=request.query_params.get("format"))
    if chosen is fmts.HTML and page is not None:
        return await page(request)
    rdflib_name = chosen.rdflib_name
    assert rdflib_name is not None
    body = await anyio.to_thread.run_sync(serialize_description, settings, store, chosen, endpoint)
    _note(request, f"service description as {chosen.name}")
    return Response(body, media_type=chosen.content_type, headers={"Vary": "Accept"})


@dataclass(frozen=True)
class LaneDone:
    """What the protocol's fast path (server.protocol.fast) did with a request before it handed it
    to the app: it consulted the answer cache (a miss, counted) and tried the bounded lane, which gave
    ``outcome`` (None: not a query of the lane, or one longer than the lane reads: a worker's job) or
    raised ``error``. The app then goes on from there instead of doing it again (:func:`answer`)."""

    outcome: QueryOutcome | None = None
    error: Exception | None = None


# In a request's scope when the fast path handed it over (the value a LaneDone).
LANE_DONE = "plankg.lane_done"
# In a GET's scope when the fast path read its query already (the QueryRequest read_get gave).
READ_REQUEST = "plankg.read_request"

# A query still running after this long has its client watched (most answer sooner: no watcher at all).
_WATCH_CLIENT_AFTER = 0.05


def bounded_query(
    store: Store, settings: Settings, req: QueryRequest, choice: FormatChoice
) -> Callable[[], QueryOutcome | None] | None:
    """What evaluates a query of the bounded lane (server.stores.bounded) in this process, on the
    event loop (checked first, as :func:`run_query` checks); None when the query is not in the lane
    (or the store has no such lane): it then runs in a worker. A text that mentions SERVICE anywhere
    (in an IRI, a string, a comment) is left to the workers' path, where the SERVICE check parses it.
    The callable itself gives None when the answer is longer than the lane reads (a worker's job)."""
    lane: Callable[..., Callable[[], QueryOutcome | None] | None] | None = getattr(
        store, "bounded_query", None
    )
    if lane is None or not settings.bounded_lane or mentions_service(req.query):
        return None
    evaluate = lane(req.query, **_options(settings, req, choice))
    if evaluate is None:
        return None
    check_query(req.query, settings.allowed_service_hosts, base_iri=req.base_iri)
    return evaluate


def run_bounded(
    store: Store, settings: Settings, req: QueryRequest, choice: FormatChoice
) -> QueryOutcome | None:
    """The answer of a query in the bounded lane, or None (see :func:`bounded_query`)."""
    evaluate = bounded_query(store, settings, req, choice)
    return None if evaluate is None else evaluate()


@dataclass(frozen=True)
class WorkerDone:
    """What became of a worker's query the protocol's fast path (server.protocol.fast) admitted and
    ran itself before it handed the request to the app: the ``outcome`` it could not write itself (a
    spooled answer, a body to compress in a thread), or the ``error`` admission or the store raised
    (429, 503, 499, a syntax error, too many rows …). :func:`_evaluate` gives it as its own."""

    outcome: QueryOutcome | None = None
    error: Exception | None = None


# In a request's scope when the fast path ran its worker's query already (the value a WorkerDone).
WORKER_DONE = "plankg.worker_done"


async def run_in_worker(
    state: Any,
    store: Store,
    settings: Settings,
    client: str,
    req: QueryRequest,
    choice: FormatChoice,
    gone: Callable[[], Awaitable[bool]],
    until_gone: Callable[[], Awaitable[None]],
) -> QueryOutcome:
    """A query that needs a worker, admitted (the app's ``state.fairness``) and run on ``store`` in a
    thread of ``state.query_limiter`` (the app's and the fast path's one way to a worker).

    429 past the client's limits, 503 past the shared queue; a heavy client's query runs at the lowest
    CPU priority (server.ops.priority). A query that waited for a slot is given up (499) if ``gone()``
    says its client left meanwhile; one admitted at once is not looked at: its client was there a
    moment ago. Once the query has run for ``_WATCH_CLIENT_AFTER``, ``until_gone()`` is awaited in a
    task and stops the query when it returns (most answer sooner: no task at all, a timer only).
    """
    fairness: Limiter = state.fairness
    cancel = threading.Event()
    loop = asyncio.get_running_loop()
    watcher: asyncio.Task[None] | None = None

    async def watching() -> None:
        await until_gone()
        cancel.set()

    def watch() -> None:
        nonlocal watcher
        watcher = loop.create_task(watching())

    waited = not fairness.free(client)
    async with fairness.admit(client, wait=req.timeout) as background:
        if waited and await gone():
            raise gone_while_waiting()
        timer = loop.call_later(_WATCH_CLIENT_AFTER, watch)
        try:
            return await anyio.to_thread.run_sync(
                partial(run_in_background, background, run_query, store, settings, req, choice, cancel),
                limiter=state.query_limiter,
            )
        finally:
            timer.cancel()
            if watcher is not None:
                watcher.cancel()


async def _evaluate(
    request: Request, store: Store, settings: Settings, req: QueryRequest, choice: FormatChoice
) -> QueryOutcome:
    """The query's outcome: from the bounded lane, or from a worker (:func:`run_in_worker`); a client
    that hangs up stops its query and frees its worker."""
    worker: WorkerDone | None = request.scope.get(WORKER_DONE)
    if worker is not None:  # the fast path ran it in a worker already: what it gave
        if worker.error is not None:
            raise worker.error
        assert worker.outcome is not None
        return worker.outcome
    client = client_for(request)
    fairness: Limiter = request.app.state.fairness
    done: LaneDone | None = request.scope.get(LANE_DONE)
    if done is not None:  # the fast path tried the lane already: its error, or on to a worker
        if done.error is not None:
            raise done.error
        evaluate = None
    else:
        evaluate = bounded_query(store, settings, req, choice)
    if evaluate is not None:
        # No worker, no slot: the client's query-time budget only (server.ops.fairness).
        with fairness.admit_bounded(client):
            outcome = evaluate()
        if outcome is not None:
            return outcome

    async def until_gone() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    return await run_in_worker(
        request.app.state, store, settings, client, req, choice, request.is_disconnected, until_gone
    )


# What an answer-cache entry holds besides the answer's bytes: its key (the query text, counted by its
# UTF-8 length) and the tuples and objects around them. Counting the answers alone let distinct query
# texts (bench/soak.py numbers each) hold memory the limit did not see.
_ENTRY_OVERHEAD = 512


def _entry_bytes(req: QueryRequest, body: bytes) -> int:
    return len(body) + len(req.query.encode("utf-8", "surrogatepass")) + _ENTRY_OVERHEAD


def cache_key(
    build_id: str, req: QueryRequest, choice: FormatChoice, settings: Settings
) -> tuple[object, ...]:
    """Everything an answer depends on; the build id retires every entry when the data changes."""
    return (
        build_id,
        req.query,
        req.default_graph_uris,
        req.named_graph_uris,
        tuple(sorted(req.bindings.items())),
        req.base_iri,
        choice,
        settings.max_result_rows,
    )


def cache_answer(
    cache: AnswerCache[QueryOutcome],
    key: tuple[object, ...],
    req: QueryRequest,
    outcome: QueryOutcome,
    build_id: str,
) -> None:
    """Keep a computed answer: not one of a build swapped in meanwhile, nor one too large to hold
    (spooled)."""
    if outcome.body is not None and outcome.build_id in (None, build_id):
        cache.put(key, outcome, _entry_bytes(req, outcome.body))


def whole_answer(outcome: QueryOutcome, cached: bool) -> tuple[str, Response]:
    """The response of an answer held whole (not spooled), and what the access log says of it."""
    assert outcome.format is not None and outcome.body is not None
    headers = {"Vary": "Accept", "X-Result-Rows": str(outcome.rows), "X-Cache": "hit" if cached else "miss"}
    hit = " (cached)" if cached else ""
    note = f"{outcome.kind.value}, {outcome.rows} rows as {outcome.format.name}{hit}"
    return note, Response(outcome.body, media_type=outcome.format.content_type, headers=headers)


async def answer(request: Request, req: QueryRequest) -> Response:
    """Negotiate, check and evaluate off the event loop, and answer with the whole result.

    Shared by every route that runs a query (``/sparql``, the canned queries), so that they
    negotiate, limit, time out and fail alike.
    """
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    choice = choose_formats(request.headers.get("accept"), req.format_name)
    cache: AnswerCache[QueryOutcome] = request.app.state.answer_cache
    build_id = store.build_id
    cache.use_build(build_id)
    key = cache_key(build_id, req, choice, settings)
    done: LaneDone | None = request.scope.get(LANE_DONE)
    # Handed over by the fast path: the cache was consulted there (a miss, counted once).
    outcome = cache.get(key) if done is None else done.outcome
    cached = outcome is not None and done is None
    if outcome is None:
        try:
            outcome = await _evaluate(request, store, settings, req, choice)
        except QueryTimeout:
            request.app.state.metrics.query_timed_out()
            raise
        cache_answer(cache, key, req, outcome, build_id)
    elif done is not None:
        cache_answer(cache, key, req, outcome, build_id)
    assert outcome.format is not None
    if outcome.spooled is not None:
        headers = {
            "Vary": "Accept",
            "X-Result-Rows": str(outcome.rows),
            "X-Cache": "hit" if cached else "miss",
        }
        # Whole on disk before its 200, sent in chunks (read in a thread) with its Content-Length: a
        # transfer cut short is seen as such by the client (fewer bytes than announced).
        _note(request, f"{outcome.kind.value}, {outcome.rows} rows as {outcome.format.name} (spooled)")
        headers["Content-Length"] = str(outcome.spooled.size)
        return StreamingResponse(
            outcome.spooled.chunks(), media_type=outcome.format.content_type, headers=headers
        )
    note, response = whole_answer(outcome, cached)
    _note(request, note)
    return response


def _parameter(name: str, description: str, schema: dict[str, object]) -> dict[str, object]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


# What read_request takes, as schemas: a query holds a character other than white space (a blank one
# is 400); timeout= is a positive number of seconds; format= one of the names below (an unknown or
# empty name is 406). A query is "format: sparql-query": its grammar is SPARQL 1.1, not a pattern.
QUERY_SCHEMA: dict[str, object] = {"type": "string", "format": "sparql-query", "pattern": "\\S"}
_GRAPH_IRIS: dict[str, object] = {"type": "array", "items": {"type": "string", "format": "iri"}}
_FORMAT_NAMES = [f.name for f in fmts.FORMATS if not f.carries(Kind.PAGE)]
_PARAMETERS = [
    _parameter("query", "the SPARQL query (GET)", QUERY_SCHEMA),
    _parameter("default-graph-uri", "a graph of the store to use as the default graph", _GRAPH_IRIS),
    _parameter("named-graph-uri", "a graph of the store to make available to GRAPH", _GRAPH_IRIS),
    _parameter(
        "timeout",
        "seconds: a shorter time limit than the server's (never a longer one)",
        {"type": "number", "exclusiveMinimum": 0},
    ),
    _parameter("format", "a format name overriding Accept", {"type": "string", "enum": _FORMAT_NAMES}),
]
_POST: dict[str, object] = {
    "parameters": [p for p in _PARAMETERS if p["name"] != "query"],
    "requestBody": {
        "required": True,
        "content": {
            SPARQL_QUERY: {"schema": QUERY_SCHEMA},
            FORM: {
                "schema": {
                    "type": "object",
                    # In the form or the URL; a form's timeout= or format= wins over the URL's.
                    "properties": {
                        "query": QUERY_SCHEMA,
                        **{str(p["name"]): p["schema"] for p in _PARAMETERS if p["name"] != "query"},
                    },
                    "required": ["query"],
                }
            },
        },
    },
}
# Every answer /sparql may give: results, graphs, the service description, the query page (GET).
_ANSWER_TYPES = sorted({f.media_type for f in fmts.FORMATS if not f.carries(Kind.PAGE)})
_GET_ANSWERS = responses([*_ANSWER_TYPES, fmts.HTML.media_type], 400, 403, 406, 429, 503)
_POST_ANSWERS = responses(_ANSWER_TYPES, 400, 403, 406, 413, 415, 429, 503)


SPARQL_METHODS = ("GET", "HEAD", "POST", "OPTIONS")


class SparqlRoute(APIRoute):
    """A ``/sparql`` route whose 405 names every method ``/sparql`` answers.

    The endpoint is one route per method (distinct OpenAPI operations); Starlette answers a method
    none of them takes from the first route alone, which would advertise ``Allow: GET``.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in SPARQL_METHODS:
            raise HTTPException(405, headers={"Allow": ", ".join(SPARQL_METHODS)})
        await super().handle(scope, receive, send)


async def sparql_options() -> Response:
    """A plain OPTIONS (a CORS preflight is answered by the CORS middleware before it gets here)."""
    return Response(status_code=204, headers={"Allow": ", ".join(SPARQL_METHODS)})


def make_router() -> APIRouter:
    router = APIRouter(route_class=SparqlRoute)
    description = (
        "The answer format by `Accept` (or `format=`). Without a query: the SPARQL Service "
        "Description. Updates are refused (403), SERVICE to a host not allowed is refused (400; with "
        "SILENT it gives the empty solution); relative IRIs resolve against the endpoint URL; a query "
        "runs at most the server's time limit (503 past it)."
    )
    # One operation per method: OpenAPI wants distinct operation ids.
    for method, summary, extra, answers in (
        ("GET", "SPARQL query by GET (read-only)", {"parameters": _PARAMETERS}, _GET_ANSWERS),
        ("HEAD", "Headers of the GET answer", {"parameters": _PARAMETERS}, _GET_ANSWERS),
        ("POST", "SPARQL query by POST form or application/sparql-query", _POST, _POST_ANSWERS),
    ):
        router.add_api_route(
            "/sparql",
            sparql_endpoint,
            methods=[method],
            name=f"sparql-{method.lower()}",
            operation_id=f"sparql_{method.lower()}",
            summary=summary,
            description=description,
            response_class=Response,
            responses=answers,
            openapi_extra=extra,
        )
    router.add_api_route(
        "/sparql", sparql_options, methods=["OPTIONS"], name="sparql-options", include_in_schema=False
    )
    return router
