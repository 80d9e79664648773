"""Routes of the reconciliation service at ``{base}reconcile`` (Reconciliation Service API 0.2).

Thin: read the parameters (``requests``), get the index of the current build (``index``, read off the
event loop, once per build), match or look up (``matching``), answer in the API's shapes (``shapes``),
as JSON or, with a ``callback`` parameter, as JSONP. CORS comes from the app's CORS layer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from server.errors import (
    BadReconciliationRequest,
    StoreFailure,
    UnknownEntity,
    UnsupportedMediaType,
)
from server.protocol.sparql import multi_params, read_body
from server.reconcile import matching, openapi, requests, shapes, text
from server.reconcile.index import Index, IndexCache
from server.reconcile.schema import TYPES
from server.settings import Settings
from server.stores.interface import Store

FORM = "application/x-www-form-urlencoded"
JAVASCRIPT = "application/javascript"
SUGGEST_LIMIT = 10


def answer(data: Any, callback: str | None) -> Response:
    """``data`` as JSON, or wrapped in the (checked) JSONP ``callback``."""
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if callback is None:
        return Response(encoded, media_type="application/json")
    # The comment keeps a body that starts with the callback's name from being read as anything else.
    return Response(
        f"/**/{callback}({encoded});", media_type=JAVASCRIPT, headers={"X-Content-Type-Options": "nosniff"}
    )


async def _form(request: Request, limit: int) -> dict[str, list[str]]:
    """The fields of a POSTed form (an empty body is no fields)."""
    body = await read_body(request, limit)
    if not body:
        return {}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise UnsupportedMediaType(
            f"POST a form ({FORM}) with 'queries' or 'extend'; got {media_type or 'no type'}"
        )
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadReconciliationRequest(f"the form is not UTF-8: {exc}") from None
    return multi_params(parse_qsl(decoded, keep_blank_values=True))


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise BadReconciliationRequest(f"'{name}' is given {len(values)} times; give it once", parameter=name)
    return values[0] if values else None


SERVICE_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
Route = Callable[[Request], Awaitable[Response]]


class ServiceRoute(APIRoute):
    """A route of ``/reconcile`` whose 405 names every method the service answers (GET and POST are
    two routes, two OpenAPI operations; Starlette would answer a third method from the first route
    alone, ``Allow: GET``). The other paths are one route each, and Starlette's Allow is right."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.path == "/reconcile" and scope["method"] not in SERVICE_METHODS:
            raise HTTPException(405, headers={"Allow": ", ".join(SERVICE_METHODS)})
        await super().handle(scope, receive, send)


async def service_options() -> Response:
    """A plain OPTIONS of ``/reconcile`` (a CORS preflight is answered by the CORS layer first)."""
    return Response(status_code=204, headers={"Allow": ", ".join(SERVICE_METHODS)})


def make_router(settings: Settings, store: Callable[[], Store | None]) -> APIRouter:
    base = settings.base
    cache = IndexCache(base, settings.query_timeout)
    router = APIRouter(tags=["reconciliation"], route_class=ServiceRoute)

    def get(
        path: str, summary: str, answers: Any, extra: dict[str, Any], **more: Any
    ) -> Callable[[Route], Route]:
        """``router.get`` with the declared answers and parameters (server.reconcile.openapi)."""
        return router.get(
            path, summary=summary, response_class=Response, responses=answers, openapi_extra=extra, **more
        )

    async def current_index() -> Index:
        current = store()
        if current is None:
            raise StoreFailure("the store is not open")
        return await anyio.to_thread.run_sync(cache.get, current)

    def params_of(request: Request) -> dict[str, list[str]]:
        return multi_params(parse_qsl(request.url.query, keep_blank_values=True))

    async def service(request: Request, params: dict[str, list[str]]) -> Response:
        jsonp = requests.callback(_single(params, "callback"))
        queries = _single(params, "queries")
        extend = _single(params, "extend")
        if queries is not None and extend is not None:
            raise BadReconciliationRequest("give 'queries' or 'extend', not both")
        if queries is None and extend is None:
            return answer(shapes.manifest(base), jsonp)
        index = await current_index()
        if queries is not None:
            batch = requests.parse_batch(queries, index)

            def run() -> dict[str, Any]:
                return {
                    key: {"result": [shapes.candidate_json(index, c) for c in matching.reconcile(index, q)]}
                    for key, q in batch.items()
                }

            request.state.outcome = f"{len(batch)} reconciliation queries"
            return answer(await anyio.to_thread.run_sync(run), jsonp)
        assert extend is not None
        ids, properties = requests.parse_extend(extend, index)
        request.state.outcome = f"extension of {len(ids)} ids by {len(properties)} properties"
        extension = await anyio.to_thread.run_sync(lambda: shapes.extension_json(index, ids, properties))
        return answer(extension, jsonp)

    @get(
        "/reconcile",
        "Reconciliation service (API 0.2): the manifest, or a batch of queries (queries=) or "
        "a data extension (extend=)",
        openapi.SERVICE_ANSWERS,
        openapi.service_get(base),
        description=openapi.SERVICE_DESCRIPTION,
    )
    async def reconcile_get(request: Request) -> Response:
        return await service(request, params_of(request))

    @router.post(
        "/reconcile",
        summary="Reconciliation service: queries= or extend= as a POSTed form",
        description=openapi.SERVICE_DESCRIPTION + " The form's fields and the URL's count alike.",
        response_class=Response,
        responses=openapi.SERVICE_POST_ANSWERS,
        openapi_extra=openapi.service_post(base),
    )
    async def reconcile_post(request: Request) -> Response:
        params = params_of(request)
        for key, values in (await _form(request, settings.max_body_bytes)).items():
            params[key] = params.get(key, []) + values
        return await service(request, params)

    router.add_api_route(
        "/reconcile", service_options, methods=["OPTIONS"], name="reconcile-options", include_in_schema=False
    )

    @get(
        "/reconcile/suggest/entity",
        "Suggest entities whose name starts with (or holds) prefix=",
        openapi.SUGGEST_ANSWERS,
        openapi.suggest_entity(base),
    )
    async def suggest_entity(request: Request) -> Response:
        params = params_of(request)
        jsonp = requests.callback(_single(params, "callback"))
        prefix = _required(params, "prefix")
        index = await current_index()
        types = _types(params, index)
        limit = requests.limit_parameter(_single(params, "limit"), SUGGEST_LIMIT)
        cursor = _cursor(params)
        found = await anyio.to_thread.run_sync(lambda: matching.suggest(index, prefix, types, limit, cursor))
        return answer(shapes.suggest_entity_json(index, found), jsonp)

    @get(
        "/reconcile/suggest/type",
        "Suggest types whose name or id starts with prefix=",
        openapi.SUGGEST_ANSWERS,
        openapi.suggest_type(),
    )
    async def suggest_type(request: Request) -> Response:
        params = params_of(request)
        jsonp = requests.callback(_single(params, "callback"))
        wanted = text.normalise(_required(params, "prefix"))
        limit = requests.limit_parameter(_single(params, "limit"), SUGGEST_LIMIT)
        cursor = _cursor(params)
        found = [
            t
            for t in shapes.all_types_json(base)
            if wanted and any(text.normalise(x).startswith(wanted) for x in (t["name"], _local(t["id"])))
        ]
        return answer({"result": found[cursor : cursor + limit]}, jsonp)

    @get(
        "/reconcile/suggest/property",
        "Suggest properties (of type=) whose name or id starts with prefix=",
        openapi.SUGGEST_ANSWERS,
        openapi.suggest_property(base),
    )
    async def suggest_property(request: Request) -> Response:
        params = params_of(request)
        jsonp = requests.callback(_single(params, "callback"))
        wanted = text.normalise(_required(params, "prefix"))
        index = await current_index()
        types = _types(params, index)
        limit = requests.limit_parameter(_single(params, "limit"), SUGGEST_LIMIT)
        cursor = _cursor(params)
        specs = [index.specs[index.type_broader.get(t, t)] for t in types] or list(TYPES)
        found = [
            shapes.property_json(p)
            for p in shapes.properties_of(specs)
            if wanted and any(text.normalise(x).startswith(wanted) for x in (p.id, p.name))
        ]
        return answer({"result": found[cursor : cursor + limit]}, jsonp)

    @get(
        "/reconcile/properties",
        "Propose properties to fetch for entities of type= (of every type without)",
        openapi.PROPOSE_ANSWERS,
        openapi.propose_properties(base),
    )
    async def propose_properties(request: Request) -> Response:
        params = params_of(request)
        jsonp = requests.callback(_single(params, "callback"))
        index = await current_index()
        types = _types(params, index)
        specs = [index.specs[index.type_broader.get(t, t)] for t in types] or list(TYPES)
        props = [shapes.property_json(p) for p in shapes.properties_of(specs)]
        body: dict[str, Any] = {"type": types[0]} if types else {}
        raw_limit = _single(params, "limit")
        if raw_limit is not None:
            limit = requests.limit_parameter(raw_limit, len(props))
            props = props[:limit]
            body["limit"] = limit
        return answer({**body, "properties": props}, jsonp)

    @get(
        "/reconcile/preview",
        "A small HTML preview of the entity id=",
        openapi.PREVIEW_ANSWERS,
        openapi.preview(),
    )
    async def preview(request: Request) -> Response:
        params = params_of(request)
        entity_id = _required(params, "id")
        index = await current_index()
        entity = index.entities.get(entity_id)
        if entity is None:
            raise UnknownEntity(f"the reconciliation service knows no entity {entity_id!r}", id=entity_id)
        return Response(shapes.preview_html(index, entity), media_type="text/html; charset=utf-8")

    return router


def _required(params: dict[str, list[str]], name: str) -> str:
    value = _single(params, name)
    if value is None or requests.is_blank(value):
        raise BadReconciliationRequest(f"the '{name}' parameter is required", parameter=name)
    return value


def _types(params: dict[str, list[str]], index: Index) -> tuple[str, ...]:
    value = _single(params, "type")
    return () if value is None else requests.check_types(index, [value], "'type'")


def _cursor(params: dict[str, list[str]]) -> int:
    return requests.count_parameter(_single(params, "cursor"), "cursor") or 0


def _local(iri: str) -> str:
    return iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
