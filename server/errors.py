"""The server's errors and the one table that turns every error into an HTTP answer.

Errors are answered as RFC 9457 problem documents (``application/problem+json``): ``title`` names
the kind of error, ``detail`` says what happened in words a person can act on, and extra members carry
machine-readable facts (``line`` and ``column`` of a malformed query, the ``limit`` that was hit).
Routes raise the exceptions below; they never build error responses themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mapping.errors import DocumentError, PlanKGError, ValidationFailed

if TYPE_CHECKING:
    from server.protocol.formats import Format


class ServerError(PlanKGError):
    """Base of the errors the HTTP layer answers; ``detail`` is the readable reason."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra


class BadRequest(ServerError):
    """The request does not follow the SPARQL protocol (missing or doubled query, bad parameter)."""


class InvalidGraphIri(BadRequest):
    """A ``default-graph-uri`` or ``named-graph-uri`` that is not an absolute IRI; ``parameter`` and
    ``value`` say which (SPARQL 1.1 Protocol §2.1.4 takes IRIs there, RFC 3987)."""


class QuerySyntaxError(ServerError):
    """The query does not parse; ``line`` and ``column`` (1-based) come from the parser."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"malformed query{where}: {message}", line=line, column=column)
        self.line = line
        self.column = column


class QueryNotSupported(ServerError):
    """The query parses but asks for something the store does not do (an unknown function)."""


class UnsafeQuery(ServerError):
    """The query would make the server fetch from a host that is not allowed (SERVICE)."""


class UpdateRefused(ServerError):
    """SPARQL Update on a read-only endpoint."""


class NotAcceptable(ServerError):
    def __init__(self, offers: Sequence[Format], reason: str) -> None:
        types = sorted({mt for f in offers for mt in f.media_types})
        super().__init__(f"{reason}; available: {', '.join(types)}", available=types)


class UnsupportedMediaType(ServerError):
    """The request body has a media type the route does not take."""


class RequestTooLarge(ServerError):
    """The request body is larger than the configured limit."""


class QueryTooLong(ServerError):
    """The query text is longer than the configured limit."""


class TooManyRows(ServerError):
    """The result has more rows (or triples) than the configured limit: refused, never truncated."""


class QueryTimeout(ServerError):
    """The query ran past its time limit and was stopped."""


class QueryCancelled(ServerError):
    """The client went away while its query ran; the query was stopped."""


class QueryMemoryExceeded(ServerError):
    """The query's worker grew past the memory limit and was stopped."""


class ServerBusy(ServerError):
    """No query worker became free within the query's time limit."""


class TooManyRequests(ServerError):
    """The client is past one of its limits (server.ops.fairness); ``retry_after`` seconds."""


class StoreFailure(ServerError):
    """The store could not answer (a worker died, the store could not be read)."""


class StoreUnavailable(StoreFailure):
    """The store was deleted, or replaced by one that cannot be opened, while the server ran; queries
    are answered again once a good build is back at its path (server.stores.oxigraph)."""


class StoreMissing(ServerError):
    """There is no built store where the settings say it is."""


class BadReconciliationRequest(BadRequest):
    """A reconciliation, suggest or extension request the service cannot read (server.reconcile)."""


class UnknownEntity(ServerError):
    """An identifier the reconciliation service does not know (its preview of an unknown id)."""


class EngineUnavailable(ServerError):
    """A remote SPARQL engine could not be reached, or answered with an error of its own."""


class EngineTimeout(QueryTimeout):
    """A remote SPARQL engine did not answer within the query's time limit, or stopped the query at
    its own time limit."""


class EngineLimit(ServerError):
    """A remote SPARQL engine refused the query on one of its own limits (its cost estimate)."""


@dataclass(frozen=True)
class Rule:
    status: int
    title: str
    headers: Mapping[str, str] = field(default_factory=dict)


# The one table: exception class -> HTTP status and title. Looked up along the exception's MRO, so
# a subclass answers like its nearest listed ancestor.
ERROR_TABLE: dict[type[BaseException], Rule] = {
    BadRequest: Rule(400, "Bad request"),
    InvalidGraphIri: Rule(400, "Invalid graph IRI"),
    BadReconciliationRequest: Rule(400, "Bad reconciliation request"),
    UnknownEntity: Rule(404, "Unknown entity"),
    QuerySyntaxError: Rule(400, "Malformed query"),
    UnsafeQuery: Rule(400, "Query refused"),
    QueryNotSupported: Rule(400, "Query not supported"),
    QueryTooLong: Rule(400, "Query too long"),
    TooManyRows: Rule(400, "Result too large"),
    UpdateRefused: Rule(403, "Updates are not allowed"),
    # Nobody reads this answer; 499 (nginx's "client closed request") keeps the log and metrics honest.
    QueryCancelled: Rule(499, "Client closed request"),
    NotAcceptable: Rule(406, "Not acceptable"),
    RequestTooLarge: Rule(413, "Request body too large"),
    UnsupportedMediaType: Rule(415, "Unsupported media type"),
    TooManyRequests: Rule(429, "Too many requests"),
    # A worker died, the store cannot be read: the service is unavailable, not the request wrong.
    StoreFailure: Rule(503, "Store failure", {"Retry-After": "5"}),
    StoreUnavailable: Rule(503, "Store unavailable", {"Retry-After": "5"}),
    StoreMissing: Rule(500, "Store missing"),
    DocumentError: Rule(500, "The source document could not be read"),
    ValidationFailed: Rule(500, "The graph failed validation"),
    QueryTimeout: Rule(503, "Query timed out"),
    # A remote engine (--remote-endpoint): unreachable or failing, slow, or refusing on its limits.
    EngineUnavailable: Rule(502, "Engine unavailable"),
    EngineTimeout: Rule(504, "Engine timed out"),
    EngineLimit: Rule(503, "Engine limit"),
    QueryMemoryExceeded: Rule(503, "Query used too much memory"),
    ServerBusy: Rule(503, "Server busy", {"Retry-After": "5"}),
    PlanKGError: Rule(500, "Internal error"),
}


def rule_for(exc: BaseException) -> Rule | None:
    for cls in type(exc).__mro__:
        rule = ERROR_TABLE.get(cls)
        if rule is not None:
            return rule
    return None


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


def problem_for(exc: PlanKGError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, problem document and extra headers for a domain error."""
    rule = rule_for(exc) or Rule(500, "Internal error")
    headers = dict(rule.headers)
    if isinstance(exc, ServerError):
        body = problem(rule.status, rule.title, exc.detail, **exc.extra)
        if "retry_after" in exc.extra:  # an error that knows when to come back says so
            headers["Retry-After"] = str(exc.extra["retry_after"])
    else:
        body = problem(rule.status, rule.title, str(exc))
    return rule.status, body, headers
