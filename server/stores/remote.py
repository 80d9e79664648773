"""A store that is a remote SPARQL engine (Virtuoso, Fuseki, QLever, GraphDB, Neptune …), over HTTP.

The second implementation of :class:`server.stores.interface.Store`: every route (``/sparql``, the
canned queries, the pages, search) runs unchanged over it, after the same safety check (SERVICE is
refused before any query leaves this server). It speaks only the SPARQL 1.1 Protocol, and trusts the
engine with nothing the server promises:

* **The dataset is always explicit.** ``plankg publish`` (:mod:`mapping.publish`) loads a build into
  the engine and writes a record graph naming the engine graph that holds the build's default graph,
  its named graphs and its build id; every query is sent with ``default-graph-uri`` /
  ``named-graph-uri`` for exactly those graphs (an engine's own default dataset may be the union of
  everything it holds, Virtuoso's system graphs included). A graph a client names that is not in the
  build is replaced by one that holds nothing, as the embedded store answers for an unknown graph.
  The record is read again every ``refresh_interval`` seconds, so a new publish is served (and the
  answer cache retired, the build id being in its keys) within that time.
* **The time limit is the server's.** The exchange runs in a thread of its own; the caller waits for
  it until the query's deadline and answers :class:`~server.errors.EngineTimeout` (504) then, whatever
  the engine does (an engine may not stop a query whose client left). The abandoned exchange ends at
  its own read timeout. A client that goes away stops the wait at once.
* **Failures say what happened:** an engine that cannot be reached or answers with a server error is
  :class:`~server.errors.EngineUnavailable` (502) with the reason; its own time limit (Virtuoso's
  ``SR171``) is :class:`~server.errors.EngineTimeout` (504); its cost estimate refusing the query is
  :class:`~server.errors.EngineLimit` (503); its syntax errors are a malformed query (400).
* **No truncated answer.** An engine that cuts a result at its own row cap and says so only in a header
  (Virtuoso's ``ResultSetMaxRows``, ``X-SPARQL-MaxRows``) is refused as too many rows, as is a
  result longer than the server's own row limit.
* **The same answers.** Results come back as SPARQL JSON (graphs as N-Triples), are read into the
  neutral values of :mod:`server.protocol.results` and written in the negotiated format by the
  server's own serialisers, so the formats are the server's whatever the engine writes.

Credentials (``PLANKG_REMOTE_USER`` / ``PLANKG_REMOTE_PASSWORD``, basic or digest) go into the HTTP
client only; they are never logged nor put in an error message.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node
from typing_extensions import Unpack

from mapping import layout
from server.errors import (
    EngineLimit,
    EngineTimeout,
    EngineUnavailable,
    NotAcceptable,
    QueryCancelled,
    QueryNotSupported,
    QuerySyntaxError,
    StoreMissing,
    TooManyRows,
)
from server.protocol import formats as fmts
from server.protocol.formats import Format
from server.protocol.results import (
    RDF_LANG_STRING,
    XSD_STRING,
    BlankNode,
    Iri,
    Literal,
    Solutions,
    Term,
    Triple,
    serialize_boolean,
    serialize_solutions,
)
from server.stores.interface import DatasetDescription, QueryOptions, QueryOutcome, ResultKind
from server.stores.querytext import QueryForm, has_dataset_clause, query_form, with_base, with_bindings

log = logging.getLogger("plankg.remote")

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
# Stands for a graph the build does not hold: no engine holds a graph by this name.
EMPTY_GRAPH = "urn:plankg:no-such-graph"
_POLL = 0.05  # how often a waiting query looks at its client
_TEXT_IN_ERRORS = 400  # characters of an engine's error text quoted in ours


@dataclass(frozen=True)
class Published:
    """What the record graph says: the build served and the engine graphs that hold it."""

    build_id: str
    default_graph: str
    named_graphs: tuple[str, ...]
    triples: int
    default_graph_triples: int


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    scheme: str = "digest"  # or "basic"

    def auth(self) -> httpx.Auth:
        if self.scheme == "basic":
            return httpx.BasicAuth(self.user, self.password)
        if self.scheme == "digest":
            return httpx.DigestAuth(self.user, self.password)
        raise ValueError(f"unknown authentication scheme {self.scheme!r} (basic or digest)")

    def __repr__(self) -> str:  # never the password, not even in a traceback's locals
        return f"Credentials(user={self.user!r}, scheme={self.scheme!r})"


def record_graph(base: str) -> str:
    return base + layout.PUBLISHED_RECORD_PATH


def _record_query(record: str) -> str:
    return f"""SELECT ?id ?default ?named ?total ?defaultTriples WHERE {{
  <{record}> <{layout.DCTERMS_IDENTIFIER}> ?id ;
      <{layout.SD_DEFAULT_GRAPH}> ?default ;
      <{layout.VOID_TRIPLES}> ?total .
  ?default <{layout.VOID_TRIPLES}> ?defaultTriples .
  OPTIONAL {{ <{record}> <{layout.SD_NAMED_GRAPH}> ?named }}
}}"""


# --- reading the engine's answers ------------------------------------------------------------


def _json_term(value: Mapping[str, Any]) -> Term:
    kind = value.get("type")
    text = str(value.get("value", ""))
    if kind == "uri":
        return Iri(text)
    if kind == "bnode":
        return BlankNode(text)
    if kind in ("literal", "typed-literal"):  # typed-literal: SPARQL 1.0 JSON, which Virtuoso writes
        language = value.get("xml:lang")
        if language:
            return Literal(text, RDF_LANG_STRING, str(language))
        return Literal(text, str(value.get("datatype") or XSD_STRING))
    raise ValueError(f"a result term of unknown type {kind!r}")


def read_results(body: bytes) -> Solutions | bool:
    """A SPARQL JSON results document as neutral values (ValueError if it is not one)."""
    import json

    doc = json.loads(body)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if "boolean" in doc:
        return bool(doc["boolean"])
    variables = tuple(str(v) for v in doc["head"]["vars"])
    rows = tuple(
        tuple(_json_term(b[v]) if v in b else None for v in variables) for b in doc["results"]["bindings"]
    )
    return Solutions(variables, rows)


def _rdflib_term(node: Node) -> Term:
    if isinstance(node, URIRef):
        return Iri(str(node))
    if isinstance(node, BNode):
        return BlankNode(str(node))
    if isinstance(node, RdfLiteral):
        if node.language:
            return Literal(str(node), RDF_LANG_STRING, node.language)
        return Literal(str(node), str(node.datatype or XSD_STRING))
    raise ValueError(f"unexpected term {node!r}")


def _node(term: Term) -> Node:
    if isinstance(term, Iri):
        return URIRef(term.value)
    if isinstance(term, BlankNode):
        return BNode(term.id)
    if isinstance(term, Literal):
        if term.language is not None:
            return RdfLiteral(term.value, lang=term.language)
        if term.datatype == XSD_STRING:  # the same term as a simple literal (RDF 1.1)
            return RdfLiteral(term.value)
        return RdfLiteral(term.value, datatype=URIRef(term.datatype))
    raise ValueError("triple terms cannot be written by this store")


def read_triples(body: bytes) -> tuple[Triple, ...]:
    """An N-Triples document as neutral triples."""
    graph = Graph()
    graph.parse(data=body.decode("utf-8"), format="nt")
    return tuple(Triple(_rdflib_term(s), _rdflib_term(p), _rdflib_term(o)) for s, p, o in graph)


def serialize_triples(fmt: Format, triples: Sequence[Triple], prefixes: Mapping[str, str]) -> bytes:
    """Triples in an RDF format (quad formats: every triple in the default graph)."""
    if fmt.rdflib_name is None:
        raise ValueError(f"{fmt.name} is not an RDF format")
    graph: Graph = Dataset() if fmt.carries(fmts.Kind.DATASET) else Graph()
    for prefix, namespace in prefixes.items():
        graph.bind(prefix, namespace, override=True)
    target = graph.default_context if isinstance(graph, Dataset) else graph
    for t in triples:
        target.add((_node(t.subject), _node(t.predicate), _node(t.object)))
    return graph.serialize(format=fmt.rdflib_name, encoding="utf-8")


# --- the engine's errors ---------------------------------------------------------------------

_SYNTAX = re.compile(r"syntax error|SP030|parse error|lexical error|Encountered", re.IGNORECASE)
_LINE = re.compile(r"\bline (\d+)")
_COST = re.compile(r"estimated execution time|exceeds the limit", re.IGNORECASE)
_ENGINE_TIMEOUT = re.compile(r"SR171|timed out|timeout", re.IGNORECASE)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TEXT_IN_ERRORS else text[:_TEXT_IN_ERRORS] + " …"


def engine_error(status: int, text: str, *, limit: float, prepended_lines: int) -> Exception:
    """The server's error for an engine's error answer."""
    said = _quote(text)
    if status in (401, 403, 407):
        return EngineUnavailable(f"the engine refused this server's credentials (HTTP {status}): {said}")
    if 400 <= status < 500:
        if _SYNTAX.search(text):
            found = _LINE.search(text)
            line = int(found[1]) - prepended_lines if found else None
            return QuerySyntaxError(f"the engine says: {said}", line if line and line > 0 else None, None)
        return QueryNotSupported(f"the engine refused the query (HTTP {status}): {said}")
    if _COST.search(text):
        return EngineLimit(f"the engine refused the query as too costly (its estimate): {said}")
    if _ENGINE_TIMEOUT.search(text):
        return EngineTimeout(
            f"the engine stopped the query at its own time limit: {said}", limit=limit, engine=True
        )
    return EngineUnavailable(f"the engine failed (HTTP {status}): {said}")


# --- the exchange ----------------------------------------------------------------------------


@dataclass
class _Exchange:
    """One request to the engine, run in a thread of its own so that the caller can stop waiting."""

    status: int = 0
    headers: httpx.Headers | None = None
    body: bytes = b""
    error: BaseException | None = None
    abandoned: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class RemoteStore:
    """A remote SPARQL engine holding a published build (see the module's description)."""

    def __init__(
        self,
        endpoint: str,
        base: str,
        *,
        credentials: Credentials | None = None,
        default_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        refresh_interval: float | None = 5.0,
        prefixes: Mapping[str, str] | None = None,
        max_connections: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        parts = urlsplit(endpoint)  # shown in errors and logs: never a password in its userinfo
        self._shown = urlunsplit(parts._replace(netloc=parts.hostname or "")) if parts.password else endpoint
        if parts.port is not None and parts.password:
            self._shown = urlunsplit(parts._replace(netloc=f"{parts.hostname}:{parts.port}"))
        self._record = record_graph(base)
        self._default_timeout = default_timeout
        self._connect_timeout = connect_timeout
        self._prefixes = dict(prefixes or {})
        self._client = httpx.Client(
            auth=credentials.auth() if credentials is not None else None,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            headers={"User-Agent": "plankg"},
        )
        self._stop = threading.Event()
        self.timeouts = 0
        try:
            self._published = self._read_record(min(default_timeout, 30.0))
        except BaseException:
            self._client.close()
            raise
        if refresh_interval is not None:
            threading.Thread(
                target=self._watch, args=(refresh_interval,), name="plankg-remote-watch", daemon=True
            ).start()

    # -- the published build --

    def _read_record(self, timeout: float) -> Published:
        exchange = self._exchange(
            _record_query(self._record), RESULTS_JSON, [self._record], [], time.monotonic() + timeout, None
        )
        if exchange.status != 200:
            raise engine_error(
                exchange.status, exchange.body.decode("utf-8", "replace"), limit=timeout, prepended_lines=0
            )
        try:
            value = read_results(exchange.body)
        except (ValueError, KeyError, TypeError) as exc:
            raise EngineUnavailable(f"the engine's answer is not SPARQL JSON results: {exc}") from exc
        if not isinstance(value, Solutions) or not value.rows:
            raise StoreMissing(
                f"nothing is published at {self._shown}: no record in graph <{self._record}>; "
                "run `plankg publish` first"
            )
        row = value.rows[0]
        named = sorted({r[2].value for r in value.rows if isinstance(r[2], Iri)})
        if not all(isinstance(t, Iri | Literal) for t in (row[0], row[1], row[3], row[4])):
            raise StoreMissing(f"the record in graph <{self._record}> at {self._shown} is incomplete")
        try:
            return Published(
                build_id=str(row[0].value),  # type: ignore[union-attr]
                default_graph=str(row[1].value),  # type: ignore[union-attr]
                named_graphs=tuple(named),
                triples=int(str(row[3].value)),  # type: ignore[union-attr]
                default_graph_triples=int(str(row[4].value)),  # type: ignore[union-attr]
            )
        except ValueError as exc:
            raise StoreMissing(f"the record in graph <{self._record}> has a bad count: {exc}") from exc

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                published = self._read_record(min(interval, 10.0))
            except Exception as exc:  # keep serving what we know; say why not the new one
                log.warning("could not read the published build from %s: %s", self._shown, exc)
                continue
            if published != self._published:
                if published.build_id != self._published.build_id:
                    log.info("serving build %s (was %s)", published.build_id, self._published.build_id)
                self._published = published

    def refresh(self) -> None:
        """Read the record now (tests; an operator's signal)."""
        self._published = self._read_record(min(self._default_timeout, 30.0))

    @property
    def published(self) -> Published:
        return self._published

    @property
    def build_id(self) -> str:
        return self._published.build_id

    @property
    def triple_count(self) -> int:
        return self._published.triples

    def describe_dataset(self) -> DatasetDescription:
        published = self._published
        return DatasetDescription(
            build_id=published.build_id,
            triple_count=published.triples,
            default_graph_triples=published.default_graph_triples,
            named_graphs=published.named_graphs,
            sources=(self._shown,),
        )

    # -- queries --

    def _dataset(
        self, published: Published, default_graph_uris: Sequence[str], named_graph_uris: Sequence[str]
    ) -> tuple[list[str], list[str]]:
        """The engine graphs for a query: the build's dataset, or the graphs of it a client named."""
        known = set(published.named_graphs)

        def own(names: Sequence[str]) -> list[str]:
            return [n if n in known else EMPTY_GRAPH for n in dict.fromkeys(names)]

        if not default_graph_uris and not named_graph_uris:
            return [published.default_graph], list(published.named_graphs) or [EMPTY_GRAPH]
        return own(default_graph_uris) or [EMPTY_GRAPH], own(named_graph_uris) or [EMPTY_GRAPH]

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryOutcome:
        timeout, formats, cancel = options.get("timeout"), options.get("formats"), options.get("cancel")
        base_iri = options.get("base_iri")
        limit = self._default_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        form = query_form(sparql)
        if form is None:
            raise QuerySyntaxError(
                "expected SELECT, ASK, CONSTRUCT or DESCRIBE after the prologue", None, None
            )
        kind = {
            QueryForm.SELECT: ResultKind.SOLUTIONS,
            QueryForm.ASK: ResultKind.BOOLEAN,
        }.get(form, ResultKind.GRAPH)
        fmt = formats.for_kind(kind) if formats is not None else None
        if formats is not None and fmt is None:
            raise NotAcceptable(
                fmts.formats_for(kind.format_kind),
                f"the query gives {kind.value} and none of their formats is acceptable",
            )
        if has_dataset_clause(sparql):
            # The protocol's dataset, which this store always sends, would silently override it.
            raise QueryNotSupported(
                "FROM and FROM NAMED are not supported over a remote engine: name the graphs with the "
                "protocol's default-graph-uri and named-graph-uri parameters instead"
            )
        text = with_base(with_bindings(sparql, options.get("bindings") or {}), base_iri)
        prepended = 1 if base_iri is not None else 0
        published = self._published
        default_graphs, named_graphs = self._dataset(
            published, options.get("default_graph_uris", ()), options.get("named_graph_uris", ())
        )
        accept = N_TRIPLES if kind is ResultKind.GRAPH else RESULTS_JSON
        exchange = self._exchange(text, accept, default_graphs, named_graphs, deadline, cancel, limit)
        if exchange.status != 200:
            raise engine_error(
                exchange.status,
                exchange.body.decode("utf-8", "replace"),
                limit=limit,
                prepended_lines=prepended,
            )
        assert exchange.headers is not None
        engine_cap = exchange.headers.get("x-sparql-maxrows")
        if engine_cap is not None:
            raise TooManyRows(
                f"the engine cut the result at {engine_cap} rows, its own limit; a partial answer is "
                "not given: narrow the query or page through it with LIMIT and OFFSET",
                limit=int(engine_cap) if engine_cap.isdigit() else engine_cap,
            )
        return self._outcome(kind, fmt, exchange.body, options.get("max_rows"), published.build_id)

    def _outcome(
        self, kind: ResultKind, fmt: Format | None, body: bytes, max_rows: int | None, build_id: str
    ) -> QueryOutcome:
        try:
            if kind is ResultKind.GRAPH:
                triples = read_triples(body)
                value: Solutions | bool | tuple[Triple, ...] = triples
                rows = len(triples)
            else:
                value = read_results(body)
                rows = 1 if isinstance(value, bool) else len(value.rows)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise EngineUnavailable(f"the engine's answer could not be read: {_quote(str(exc))}") from exc
        if kind is ResultKind.BOOLEAN and not isinstance(value, bool):
            raise EngineUnavailable("the engine answered an ASK query with solutions")
        if kind is ResultKind.SOLUTIONS and not isinstance(value, Solutions):
            raise EngineUnavailable("the engine answered a SELECT query with a boolean")
        if max_rows is not None and kind is not ResultKind.BOOLEAN and rows > max_rows:
            what = "triples" if kind is ResultKind.GRAPH else "rows"
            raise TooManyRows(
                f"the result has more than {max_rows} {what}, the limit of this server; "
                "narrow the query or page through it with LIMIT and OFFSET",
                limit=max_rows,
            )
        if fmt is None:
            return QueryOutcome(kind, rows, value=value, build_id=build_id)
        if isinstance(value, bool):
            out = serialize_boolean(fmt, value)
        elif isinstance(value, Solutions):
            out = serialize_solutions(fmt, value)
        else:
            out = serialize_triples(fmt, value, self._prefixes)
        return QueryOutcome(kind, rows, fmt, out, build_id=build_id)

    def _exchange(
        self,
        text: str,
        accept: str,
        default_graphs: Sequence[str],
        named_graphs: Sequence[str],
        deadline: float,
        cancel: threading.Event | None,
        limit: float | None = None,
    ) -> _Exchange:
        """POST the query; wait for the whole answer until ``deadline`` (or until ``cancel``)."""
        limit = limit if limit is not None else max(deadline - time.monotonic(), 0.0)
        exchange = _Exchange()
        form: dict[str, Any] = {
            "query": text,
            "default-graph-uri": list(default_graphs),
            "named-graph-uri": list(named_graphs),
        }
        remaining = max(deadline - time.monotonic(), 0.001)
        # The abandoned exchange ends on its own at most this long after the deadline.
        timeout = httpx.Timeout(remaining + 1.0, connect=min(remaining, self._connect_timeout))

        def run() -> None:
            try:
                with self._client.stream(
                    "POST", self.endpoint, data=form, headers={"Accept": accept}, timeout=timeout
                ) as response:
                    chunks = []
                    for chunk in response.iter_bytes():
                        if exchange.abandoned:
                            return
                        chunks.append(chunk)
                    exchange.status = response.status_code
                    exchange.headers = response.headers
                    exchange.body = b"".join(chunks)
            except BaseException as exc:  # handed to the waiting caller
                exchange.error = exc
            finally:
                exchange.done.set()

        threading.Thread(target=run, name="plankg-remote-query", daemon=True).start()
        while not exchange.done.wait(min(_POLL, max(deadline - time.monotonic(), 0.0))):
            if cancel is not None and cancel.is_set():
                exchange.abandoned = True
                raise QueryCancelled("the client went away; the query's answer is no longer awaited")
            if time.monotonic() >= deadline:
                exchange.abandoned = True
                self.timeouts += 1
                raise EngineTimeout(
                    f"the engine did not answer within the query's time limit of {limit:g} s",
                    limit=limit,
                )
        error = exchange.error
        if error is None:
            return exchange
        if isinstance(error, httpx.TimeoutException) and not isinstance(error, httpx.ConnectTimeout):
            self.timeouts += 1
            raise EngineTimeout(
                f"the engine did not answer within the query's time limit of {limit:g} s", limit=limit
            ) from error
        if isinstance(error, httpx.HTTPError):
            raise EngineUnavailable(
                f"the engine at {self._shown} cannot be reached: {type(error).__name__}: "
                f"{_quote(str(error)) or 'no reason given'}"
            ) from error
        raise error

    def close(self) -> None:
        self._stop.set()
        self._client.close()
