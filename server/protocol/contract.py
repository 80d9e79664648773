"""The OpenAPI description's shared parts, so that it says what the routes do (schemathesis checks it).

``responses(...)`` builds a route's ``responses=``: the media types of its answers by status, and a
problem document (``application/problem+json``, server.errors) for each error status. ``finish`` is
applied to FastAPI's generated document once: FastAPI documents a 422 for every route with parameters,
but the app answers a parameter it cannot read with the 400 problem document (server.app), so the 422s
become that 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

PROBLEM = "application/problem+json"

# Why a status is answered, where the route does not say more.
_REASONS = {
    303: "See Other: the document about the thing (Location)",
    304: "Not Modified: the client's copy (If-None-Match / If-Modified-Since) is current",
    400: "a parameter or the query cannot be read or is refused (problem document names it)",
    403: "SPARQL Update is refused: the endpoint is read-only",
    404: "nothing here by that name",
    406: "no acceptable format among those on offer (problem document lists them)",
    413: "the request body is larger than the limit",
    415: "the request body's media type is not one this route takes",
    429: "this client is past one of its limits (Retry-After says when to come back)",
    503: "the query ran out of time or memory, the server is busy, or the store cannot answer",
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}


def responses(
    ok: Mapping[str, Mapping[str, Any]] | Iterable[str] | None = None,
    *errors: int,
    status: int = 200,
    also: Mapping[int, Mapping[str, Any]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: ``ok`` media types (or media type -> schema) answered with
    ``status``, then a problem document for each of ``errors``; ``also`` adds entries as given."""
    out: dict[int | str, dict[str, Any]] = {}
    if ok is not None:
        content = (
            {mt: ({"schema": dict(schema)} if schema else {}) for mt, schema in ok.items()}
            if isinstance(ok, Mapping)
            else {mt: {} for mt in ok}
        )
        out[status] = {"description": HTTPStatus(status).phrase, "content": content}
    for code in errors:
        out[code] = {
            "description": _REASONS.get(code, HTTPStatus(code).phrase),
            "content": {PROBLEM: {"schema": _PROBLEM_SCHEMA}},
        }
    for code, entry in (also or {}).items():
        out[code] = {"description": _REASONS.get(code, HTTPStatus(code).phrase), **entry}
    return out


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's 422 (and its schemas) replaced by the 400 problem document the app answers."""
    bad = responses(None, 400)[400]
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.get("responses", {})
            if "422" in answers:
                del answers["422"]
                answers.setdefault("400", bad)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if "components" in document and not schemas:
        document["components"].pop("schemas", None)
    return document


__all__ = ["PROBLEM", "finish", "responses"]
