"""``/sparql`` queries answered without FastAPI's router: the protocol endpoint as a plain ASGI layer.

Profiled on distinct one-subject lookups (cProfile of the whole app in one process), a quarter of the
server's time per request went between the gzip middleware and the endpoint function: Starlette's
exception middleware, FastAPI's exit stack, the router trying each included router's routes, the
route's request/response wrapper and the dependency solver (which parsed the query string once more,
for parameters the endpoint does not declare). The endpoint needs none of it: it reads the request
itself (:func:`server.protocol.sparql.read_request`).

:class:`SparqlDirect` sits innermost among the app's middleware, inside gzip, HEAD-as-GET, CORS,
the security headers, the access log and the forwarded-header rewrite, so every answer still passes
each of them exactly as before. It takes a GET (a HEAD arrives here as its GET) or POST to
``/sparql`` that carries a query, and answers it with the same functions as the route; a domain error
is answered by the app's own exception handlers (``app.exception_handlers``, looked up by the error's
class as Starlette does); any other exception goes up to the server-error middleware, as from a route.
Everything else — a GET without a query (the Service Description, the query page), OPTIONS, another
method, another path — goes on to the router. The routes stay declared, so the OpenAPI description
of ``/sparql`` is unchanged; the scope gets the route a request would have reached, so metrics and
logs label it the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from server.ops.metrics import leaf_routes
from server.protocol.sparql import answer_protocol, read_request

PATH = "/sparql"
METHODS = ("GET", "POST")

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _handler(handlers: Mapping[Any, Handler], exc: Exception) -> Handler | None:
    """The handler Starlette's exception middleware would give ``exc``: by status code for an HTTP
    exception, else the one for its class or nearest base; never the server-error handler (``500``,
    ``Exception``), which is the server-error middleware's."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers and exc.status_code != 500:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


def _route(app: Any, method: str) -> Any:
    """The ``/sparql`` route of ``app`` that takes ``method`` (None when there is none)."""
    for route in leaf_routes(getattr(getattr(app, "router", None), "routes", ())):
        if getattr(route, "path", None) == PATH and method in (getattr(route, "methods", None) or ()):
            return route
    return None


class SparqlDirect:
    """ASGI middleware: protocol queries to ``/sparql`` answered without the router (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] not in METHODS
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        method = scope["method"]
        route = self._routes.get(method)
        if route is None:
            route = self._routes[method] = _route(app, method)
            if route is None:  # an app without the protocol routes
                await self.app(scope, receive, send)
                return
        request = Request(scope, receive, send)
        try:
            req = await read_request(request, app.state.settings)
            if req is None:
                # A GET without a query (the body is not read for a GET): the route describes.
                await self.app(scope, receive, send)
                return
            scope["route"] = route
            response = await answer_protocol(request, req)
        except Exception as exc:
            handler = _handler(app.exception_handlers, exc)
            if handler is None:
                raise
            scope["route"] = route
            response = await handler(request, exc)
        await response(scope, receive, send)


__all__ = ["SparqlDirect"]
