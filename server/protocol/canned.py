"""Canned queries: ``queries/*.rq`` files with a header, listed at ``/queries``, run at ``/queries/{name}``.

A file is read once, when the routes are made: its header (format in ``queries/README.md``) gives the
titles, the description and the typed parameters; the query is parsed (rdflib's SPARQL parser) to check
that it is a SELECT that projects every parameter, and the SERVICE safety check is run on it. A request's
parameter values are checked against their types and become typed RDF terms (an ``xsd:string``, an
``xsd:integer``, an ``xsd:gYear``, an IRI under the base) handed to the store as variable bindings,
which the store writes into the text as escaped terms before the engine plans it
(``server.stores.querytext.with_bindings``): nothing a client sends is spliced in as text, so nothing
can alter the query's shape. A bad value is a 400 that names the parameter.

Every query is its own route, so the OpenAPI document lists each as an operation with its parameters.
Results are negotiated, evaluated, limited and cached exactly as at ``/sparql``: the route hands a
:class:`server.protocol.sparql.QueryRequest` with the bindings to :func:`server.protocol.sparql.answer`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pyparsing import ParseException
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.term import Variable

from mapping.errors import PlanKGError
from server.errors import BadRequest, QueryNotSupported, UnsafeQuery
from server.protocol import formats as fmts
from server.protocol.contract import responses
from server.protocol.formats import Format, Kind
from server.protocol.negotiation import negotiate
from server.protocol.results import NOT_IN_IRI, Iri, Literal, Term
from server.protocol.safety import check_query
from server.protocol.sparql import QueryRequest, answer
from server.settings import Settings
from server.stores.querytext import with_bindings
from server.web.describe import Site
from server.web.pages import templates

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"
XSD = "http://www.w3.org/2001/XMLSchema#"

# The list of queries as a plain JSON document (not a SPARQL result). Not in server.protocol.formats, which
# has no plain JSON format yet; it is only ever offered here, next to HTML.
JSON_DOCUMENT = Format("json-document", "JSON", ("application/json",), "json", frozenset({Kind.PAGE}))
LIST_OFFERS: tuple[Format, ...] = (JSON_DOCUMENT, fmts.HTML)

# Request parameters every canned query takes besides its own.
COMMON_PARAMETERS = ("format",)
MAX_STRING_LENGTH = 200

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER = re.compile(r"#\+\s*([A-Za-z@_-]+)\s*:\s*(.*)")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_YEAR = re.compile(r"[0-9]{4}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The same rules as patterns for the OpenAPI description (schemathesis holds the two together): a
# string holds no control character and one character str.strip() keeps; an IRI parameter is an IRI
# under the base, or a reference with neither scheme nor leading '/' (resolved against the base).
_SPACE = "\\s\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
STRING_PATTERN = f"^[^\\x00-\\x1f\\x7f]*[^\\x00-\\x1f\\x7f{_SPACE}][^\\x00-\\x1f\\x7f]*$"
_IRI_CHARS = "[^" + NOT_IN_IRI.pattern.removeprefix("[")  # what an IRI may hold: not NOT_IN_IRI


def iri_pattern(base: str) -> str:
    return f"^(?:{re.escape(base)}|(?![A-Za-z][A-Za-z0-9+.-]*:|/)){_IRI_CHARS}*$"


class CannedQueryError(PlanKGError):
    """A query file is malformed; the message names the file and the line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


class ParamType(Enum):
    STRING = "string"
    INTEGER = "integer"
    YEAR = "year"
    IRI = "iri"


@dataclass(frozen=True)
class Param:
    """A typed parameter of a canned query; its SPARQL variable has the same name."""

    name: str
    type: ParamType
    description: str
    default: str | None = None
    example: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    optional: bool = False  # `optional=true`: left unbound when not given (e.g. plan: every plan)

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional

    def term(self, raw: str, base: str) -> Term:
        """The RDF term for a value given as text; BadRequest (naming the parameter) if it does not fit."""
        if self.type is ParamType.STRING:
            if not raw.strip():
                raise self._bad(raw, "must not be empty")
            if len(raw) > MAX_STRING_LENGTH:
                raise self._bad(raw, f"is longer than {MAX_STRING_LENGTH} characters")
            if _CONTROL.search(raw):
                raise self._bad(raw, "contains control characters")
            return Literal(raw)
        if self.type is ParamType.IRI:
            return Iri(self._iri(raw, base))
        pattern, what, datatype = (
            (_INTEGER, "an integer", XSD + "integer")
            if self.type is ParamType.INTEGER
            else (_YEAR, "a four-digit year", XSD + "gYear")
        )
        if not pattern.fullmatch(raw):
            raise self._bad(raw, f"is not {what}")
        value = int(raw)
        if self.minimum is not None and value < self.minimum:
            raise self._bad(raw, f"is less than {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise self._bad(raw, f"is more than {self.maximum}")
        return Literal(str(value) if self.type is ParamType.INTEGER else raw, datatype)

    def _iri(self, raw: str, base: str) -> str:
        if not raw or NOT_IN_IRI.search(raw):
            raise self._bad(raw, "is not an IRI (empty, or with spaces or characters IRIs cannot hold)")
        if not re.match(iri_pattern(base), raw):
            raise self._bad(raw, f"is not an IRI under the base {base} nor one relative to it")
        iri = raw if urlsplit(raw).scheme else urljoin(base, raw)
        if not iri.startswith(base):
            raise self._bad(raw, f"is not an IRI under the base {base}")
        return iri

    def _bad(self, raw: str, problem: str) -> BadRequest:
        shown = raw if len(raw) <= 80 else raw[:80] + "…"
        return BadRequest(f"parameter {self.name!r}: {shown!r} {problem}", parameter=self.name)

    def openapi(self, base: str) -> dict[str, Any]:
        """This parameter as an OpenAPI 3.1 query parameter."""
        schema: dict[str, Any]
        if self.type is ParamType.INTEGER:
            schema = {"type": "integer"}
        elif self.type is ParamType.YEAR:
            schema = {"type": "integer", "format": "year"}
        elif self.type is ParamType.IRI:
            schema = {"type": "string", "minLength": 1, "pattern": iri_pattern(base)}
        else:
            schema = {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_STRING_LENGTH,
                "pattern": STRING_PATTERN,
            }
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.default is not None:
            schema["default"] = int(self.default) if schema["type"] == "integer" else self.default
        spec: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": f"{self.description} ({self.type.value})",
            "schema": schema,
        }
        if self.example is not None:
            spec["example"] = int(self.example) if schema["type"] == "integer" else self.example
        return spec

    def listing(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.value,
            "required": self.required,
            "default": self.default,
            "example": self.example,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "description": self.description,
        }


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title_zh: str
    title_en: str
    description: str
    params: tuple[Param, ...]
    sparql: str

    def bind(self, given: Mapping[str, Sequence[str]], base: str) -> dict[str, Term]:
        """Typed values for every parameter, from the request's query parameters (defaults filled in)."""
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known - set(COMMON_PARAMETERS))
        if unknown:
            takes = ", ".join(sorted(known)) or "no parameters"
            raise BadRequest(f"unknown parameter {unknown[0]!r}; the query {self.name!r} takes {takes}")
        bindings: dict[str, Term] = {}
        for param in self.params:
            values = given.get(param.name, [])
            if len(values) > 1:
                raise BadRequest(
                    f"parameter {param.name!r} is given {len(values)} times; give it once",
                    parameter=param.name,
                )
            raw = values[0] if values else param.default
            if raw is None and param.optional:
                continue  # unbound: the query reads every value
            if raw is None:
                raise BadRequest(f"parameter {param.name!r} is required", parameter=param.name)
            bindings[param.name] = param.term(raw, base)
        return bindings

    def listing(self, prefix: str) -> dict[str, Any]:
        listed = {
            "name": self.name,
            "title": {"zh": self.title_zh, "en": self.title_en},
            "description": self.description,
            "url": f"{prefix}queries/{self.name}",
            "parameters": [p.listing() for p in self.params],
            "sparql": self.sparql,
        }
        example = self.example_sparql(prefix)
        if example is not None:
            listed["example_sparql"] = example
        return listed

    def example_sparql(self, base: str) -> str | None:
        """The query with each parameter bound to its example (else its default) in the text, as a
        remote engine gets it (``with_bindings``: a lookup in a group of its own sees the value, which
        a VALUES block opening the WHERE clause would not); None when the text cannot take them.
        Made once per query and base, not on every listing."""
        return _example_sparql(self, base)

    @property
    def body(self) -> str:
        """The query without its header lines (for display)."""
        lines = self.sparql.splitlines(keepends=True)
        return "".join(line for line in lines if not line.startswith("#+")).lstrip("\n")

    def example_url(self, prefix: str, format_name: str | None = None) -> str:
        # An optional parameter without a default is left out: the example runs over every plan.
        pairs = [(p.name, p.example or p.default or "") for p in self.params if not p.optional or p.default]
        if format_name:
            pairs.append(("format", format_name))
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)
        return f"{prefix}queries/{self.name}" + (f"?{query}" if query else "")


@functools.lru_cache(maxsize=256)
def _example_sparql(query: CannedQuery, base: str) -> str | None:
    bindings = {
        p.name: p.term(value, base) for p in query.params if (value := p.example or p.default) is not None
    }
    try:
        return with_bindings(query.sparql, bindings)
    except QueryNotSupported:
        return None


# --- reading query files ----------------------------------------------------------------------


def _param(path: Path, line: int, text: str) -> Param:
    spec, dash, description = text.partition(" — ")
    if not dash:
        spec, dash, description = text.partition(" -- ")
    if not dash or not description.strip():
        raise CannedQueryError(path, line, "a parameter needs ' — ' and a description after its settings")
    name, *settings = spec.split()
    if not _PARAM_NAME.fullmatch(name):
        raise CannedQueryError(path, line, f"{name!r} is not a parameter name (a SPARQL variable name)")
    values: dict[str, str] = {}
    for setting in settings:
        key, eq, value = setting.partition("=")
        if not eq or key not in {"type", "default", "example", "min", "max", "optional"} or key in values:
            raise CannedQueryError(path, line, f"unknown or repeated parameter setting {setting!r}")
        values[key] = value
    try:
        kind = ParamType(values.get("type", ""))
    except ValueError:
        kinds = ", ".join(t.value for t in ParamType)
        raise CannedQueryError(path, line, f"parameter {name!r} needs type= one of {kinds}") from None
    bounds: dict[str, int] = {}
    for key in ("min", "max"):
        if key in values:
            if kind not in (ParamType.INTEGER, ParamType.YEAR) or not _INTEGER.fullmatch(values[key]):
                raise CannedQueryError(path, line, f"{key}= needs an integer or year parameter and a number")
            bounds[key] = int(values[key])
    param = Param(
        name,
        kind,
        description.strip(),
        values.get("default"),
        values.get("example"),
        bounds.get("min"),
        bounds.get("max"),
        _flag(path, line, values.get("optional")),
    )
    for key in ("default", "example"):
        given = values.get(key)
        if given is not None:
            try:
                param.term(given, "http://example.org/")
            except BadRequest as exc:
                raise CannedQueryError(path, line, f"{key}: {exc.detail}") from None
    return param


def _flag(path: Path, line: int, value: str | None) -> bool:
    if value is None:
        return False
    if value not in ("true", "false"):
        raise CannedQueryError(path, line, f"optional= takes true or false, not {value!r}")
    return value == "true"


def _projection(path: Path, sparql: str) -> set[str]:
    try:
        parsed = parseQuery(sparql)
    except ParseException as exc:
        raise CannedQueryError(path, exc.lineno, f"the query does not parse: {exc.msg}") from None
    query = parsed[1]
    if query.name != "SelectQuery":
        raise CannedQueryError(path, 1, "a canned query must be a SELECT query")
    projection = query.get("projection")
    if projection is None or isinstance(projection, str):
        raise CannedQueryError(path, 1, "a canned query must name its variables (SELECT *: cannot bind)")
    names = set()
    for item in projection:
        var = item.get("var", item.get("evar")) if hasattr(item, "get") else None
        if isinstance(var, Variable):
            names.add(str(var))
    return names


def read_query(path: Path) -> CannedQuery:
    """A canned query from its file; CannedQueryError (file and line) if the file is malformed."""
    name = path.stem
    if not _NAME.fullmatch(name):
        raise CannedQueryError(path, 1, f"{name!r}: file names are lower-case words joined by '-'")
    text = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {}
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        found = _HEADER.fullmatch(line.rstrip())
        if not line.startswith("#+"):
            continue
        if found is None:
            raise CannedQueryError(path, number, "a header line reads '#+ key: value'")
        key, value = found[1], found[2].strip()
        if key == "param":
            param = _param(path, number, value)
            if any(p.name == param.name for p in params):
                raise CannedQueryError(path, number, f"parameter {param.name!r} declared twice")
            params.append(param)
        elif key in ("title@zh", "title@en", "description"):
            if key != "description" and key in fields:
                raise CannedQueryError(path, number, f"{key} given twice")
            fields.setdefault(key, []).append(value)
        else:
            raise CannedQueryError(path, number, f"unknown header key {key!r}")
    for key in ("title@zh", "title@en", "description"):
        if not fields.get(key) or not all(fields[key]):
            raise CannedQueryError(path, 1, f"the header needs a non-empty '#+ {key}:' line")
    projected = _projection(path, text)
    for param in params:
        if param.name not in projected:
            raise CannedQueryError(
                path, 1, f"parameter {param.name!r} must be a variable the SELECT clause projects"
            )
    try:
        check_query(text, frozenset())
    except UnsafeQuery as exc:
        raise CannedQueryError(path, 1, exc.detail) from None
    return CannedQuery(
        name=name,
        title_zh=fields["title@zh"][0],
        title_en=fields["title@en"][0],
        description=" ".join(fields["description"]),
        params=tuple(params),
        sparql=text,
    )


def load_queries(directory: Path = QUERIES_DIR) -> tuple[CannedQuery, ...]:
    """Every ``*.rq`` file of ``directory``, by name."""
    return tuple(read_query(path) for path in sorted(directory.glob("*.rq")))


# --- running them ---------------------------------------------------------------------------------


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.url.query, keep_blank_values=True):
        out.setdefault(key, []).append(value)
    return out


def _format_name(params: Mapping[str, list[str]]) -> str | None:
    values = params.get("format", [])
    if len(values) > 1:
        raise BadRequest("the 'format' parameter is given more than once; give it once", parameter="format")
    return values[0] if values else None


def _result_formats() -> list[Format]:
    return [f for f in fmts.formats_for(Kind.RESULTS) if not f.by_name_only]


def _operation(query: CannedQuery, base: str) -> dict[str, Any]:
    format_param = {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "result format by name, overriding the Accept header",
        "schema": {"type": "string", "enum": [f.name for f in fmts.formats_for(Kind.RESULTS)]},
    }
    return {"parameters": [p.openapi(base) for p in query.params] + [format_param]}


_ANSWERS = responses(sorted({f.media_type for f in _result_formats()}), 400, 406, 429, 503)


def _endpoint(query: CannedQuery) -> Any:
    async def run_canned_query(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        params = _params(request)
        req = QueryRequest(
            query=query.sparql,
            format_name=_format_name(params),
            bindings=query.bind(params, settings.base),
            base_iri=settings.base,
        )
        return await answer(request, req)

    return run_canned_query


def make_router(settings: Settings, queries: Sequence[CannedQuery] | None = None) -> APIRouter:
    """``GET /queries`` and one ``GET /queries/{name}`` route per canned query (read once, here)."""
    canned = tuple(load_queries() if queries is None else queries)
    prefix = Site(settings.base).prefix
    pages = templates()
    router = APIRouter(tags=["canned queries"])

    async def list_queries(request: Request) -> Response:
        chosen = json_or_html(request)
        headers = {"Vary": "Accept"}
        if chosen is fmts.HTML:
            context = {"request": request, "prefix": prefix, "alternates": [], "queries": canned}
            page: HTMLResponse = pages.TemplateResponse(request, "queries.html", context, headers=headers)
            return page
        body = {"queries": [q.listing(prefix) for q in canned]}
        return JSONResponse(body, headers=headers)

    router.add_api_route(
        f"{prefix}queries",
        list_queries,
        methods=["GET"],
        name="canned_queries",
        summary="The canned queries: titles, descriptions, typed parameters",
        response_class=Response,
        responses=responses(["application/json", "text/html"], 406),
    )
    for query in canned:
        router.add_api_route(
            f"{prefix}queries/{query.name}",
            _endpoint(query),
            methods=["GET"],
            name=f"canned_{query.name}",
            operation_id=f"canned_{query.name.replace('-', '_')}",
            summary=f"{query.title_en} · {query.title_zh}",
            description=f"{query.description}\n\n```sparql\n{query.body}```",
            response_class=Response,
            responses=_ANSWERS,
            openapi_extra=_operation(query, settings.base),
        )
    return router


def json_or_html(request: Request) -> Format:
    """JSON or HTML for a listing (queries, dumps): ``?format=json|html``, else the Accept header."""
    name = request.query_params.get("format")
    if name == JSON_DOCUMENT.extension:
        return JSON_DOCUMENT
    return negotiate(request.headers.get("accept"), LIST_OFFERS, format_name=name)
