"""The app factory: ``create_app(settings, store=None)`` and ``serve(settings)``.

Everything an app needs lives on ``app.state`` (settings, store, metrics, the query limiter, the
optional query page); nothing is module-level. A store passed in (tests, a remote backend) belongs to
the caller; without one, the embedded Oxigraph store is opened at startup and closed at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mapping.errors import PlanKGError
from mapping.swap import recover_interrupted_swap
from mapping.vocab import Vocab
from server.errors import ServerError, problem, problem_for
from server.ops.accesslog import AccessLog
from server.ops.accesslog import configure as configure_logging
from server.ops.fairness import Limits, LocalLimiter
from server.ops.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from server.ops.metrics import Metrics
from server.ops.slowclients import guarded_protocol
from server.protocol import canned, contract
from server.protocol.direct import SparqlDirect
from server.protocol.fast import FastAnswers
from server.protocol.finishing import FinishAnswers
from server.protocol.forwarded import ForwardedHeaders
from server.protocol.head import HeadAsGet
from server.protocol.sparql import make_router
from server.reconcile import router as reconcile
from server.settings import Settings
from server.stores.cache import AnswerCache
from server.stores.oxigraph import OxigraphStore, QueryOutcome, Store
from server.web import dumps, pages, ui
from server.web import versions as versions_web

PROBLEM = "application/problem+json"


def open_store(settings: Settings) -> Store:
    """The store the settings describe (blocking): a remote engine when one is set, else the embedded
    store (starts its query workers)."""
    if settings.remote_endpoint is not None:
        from server.stores.remote import Credentials, RemoteStore

        credentials = None
        if settings.remote_user is not None and settings.remote_password is not None:
            credentials = Credentials(settings.remote_user, settings.remote_password, settings.remote_auth)
        return RemoteStore(
            settings.remote_endpoint,
            settings.base,
            credentials=credentials,
            default_timeout=settings.query_timeout,
            refresh_interval=settings.remote_refresh,
            prefixes=Vocab(settings.base).prefixes(),
        )
    if not settings.without_plan:
        recover_interrupted_swap(settings.store_dir)  # a build killed between its two swaps
    return OxigraphStore(
        None if settings.without_plan else settings.store_dir,
        data_files=settings.data_files,
        workers=settings.query_workers,
        default_timeout=settings.query_timeout,
        memory_limit=settings.query_memory_mb * 2**20,
        isolate_network=not settings.allowed_service_hosts,
        prefixes=Vocab(settings.base).prefixes(),
        spool_bytes=settings.spool_bytes,
        bounded_lane=settings.bounded_lane,
    )


def _problem_response(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str]
) -> Response:
    request.state.outcome = f"{body['title']}: {body['detail']}"
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PlanKGError)
    status, body, headers = problem_for(exc)
    return _problem_response(request, status, body, headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = str(exc.detail)
    headers = dict(exc.headers or {})
    # Starlette's bare phrase is replaced; a route's own reason (no dump file 'x' …) is kept.
    if detail == title and exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}; allowed: {headers.get('Allow', '')}"
    elif detail == title and exc.status_code == 404:
        detail = f"nothing at {request.url.path}"
    return _problem_response(request, exc.status_code, problem(exc.status_code, title, detail), headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return _problem_response(request, 400, problem(400, "Bad request", detail), {})


def client_limits(settings: Settings) -> Limits:
    return Limits(
        concurrent=settings.client_queries or max(1, settings.query_workers - 1),
        queued=settings.client_queue,
        seconds_per_minute=settings.client_query_seconds,
        slots=settings.query_workers,
        queue=settings.query_queue,
        reserve=1 if settings.client_heavy_seconds > 0 else 0,
        heavy_seconds=settings.client_heavy_seconds,
        wait=settings.query_timeout,
    )


def create_app(
    settings: Settings,
    store: Store | None = None,
    *,
    close_store: bool = False,
    metrics_dir: Path | None = None,
) -> FastAPI:
    """The app over ``store`` (opened from ``settings`` at startup when None).

    A store the app opens is closed at shutdown; one passed in belongs to the caller unless
    ``close_store`` hands it over (``serve`` does: uvicorn ends a SIGTERMed process right after the
    shutdown, so only the lifespan can clean up). ``metrics_dir``: where the server processes of one
    port share their metrics (``server.ops.processes``).
    """
    metrics = Metrics(metrics_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned: Store | None = app.state.store if close_store else None
        if app.state.store is None:
            owned = await anyio.to_thread.run_sync(open_store, settings)
            app.state.store = owned
        metrics.start_sharing()
        try:
            yield
        finally:
            metrics.stop_sharing()
            if owned is not None:
                await anyio.to_thread.run_sync(owned.close)
                app.state.store = None

    app = FastAPI(
        title="plankg SPARQL endpoint",
        description="The Jinan green low-carbon action plan (2023-2025) as a knowledge graph.",
        lifespan=lifespan,
        # /docs is served by server.web.ui with swagger-ui from this server's static files (works offline).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = metrics
    # Threads that may wait on the store at once (each waits for a query worker process).
    app.state.query_limiter = anyio.CapacityLimiter(64)
    app.state.fairness = LocalLimiter(client_limits(settings))  # per-client limits (server.ops.fairness)
    answer_cache: AnswerCache[QueryOutcome] = AnswerCache(settings.answer_cache_bytes)
    app.state.answer_cache = answer_cache
    # The web front end installs an async (request) -> Response here for browsers asking for HTML.
    app.state.query_page = ui.query_page_handler(settings)

    app.add_exception_handler(PlanKGError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's description with the shared corrections (server.protocol.contract), made once."""
        if app.openapi_schema is None:
            app.openapi_schema = contract.finish(generate_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    app.include_router(make_router())
    app.include_router(canned.make_router(settings))
    app.include_router(dumps.make_router(settings))
    app.include_router(versions_web.make_router(settings))  # /dumps/versions/, /changes
    app.include_router(pages.router(settings, lambda: app.state.store))
    app.include_router(ui.router(settings, lambda: app.state.store, app.openapi_url or "/openapi.json"))
    # The reconciliation service (API 0.2) for OpenRefine and the like: server/reconcile/.
    app.include_router(reconcile.make_router(settings, lambda: app.state.store))

    @app.get(
        "/healthz",
        summary="Liveness: the store answers a trivial query",
        response_class=Response,
        responses=contract.responses(["application/json"], 503),
    )
    async def healthz(request: Request) -> Response:
        current: Store = request.app.state.store
        try:
            await anyio.to_thread.run_sync(lambda: current.query("ASK {}", timeout=5.0))
        except ServerError as exc:
            _, body, headers = problem_for(exc)
            return _problem_response(request, 503, {**body, "status": 503}, headers)
        return JSONResponse({"status": "ok", "build_id": current.build_id, "triples": current.triple_count})

    def triples() -> float:
        current: Store | None = app.state.store
        return float(current.triple_count) if current is not None else 0.0

    metrics.gauge("plankg_store_triples", "Quads in the store, all graphs.", triples, merge="max")
    metrics.gauge("plankg_answer_cache_bytes", "Bytes of answers in the cache.", lambda: answer_cache.size)
    metrics.gauge(
        "plankg_answer_cache_hits_total",
        "Answers served from the cache.",
        lambda: answer_cache.hits,
        "counter",
    )
    metrics.gauge(
        "plankg_answer_cache_misses_total", "Answers computed.", lambda: answer_cache.misses, "counter"
    )

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses=contract.responses([METRICS_CONTENT_TYPE]),
    )
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

    # Innermost: protocol queries to /sparql go to the endpoint without the router (server.protocol.direct).
    app.add_middleware(SparqlDirect)
    # gzip, CORS and the security headers (on every answer, errors included) in one pass.
    finishing: dict[str, Any] = {
        # Level 5: most of level 9's saving on RDF and result text at a third of its CPU.
        "minimum_size": 1000,
        "compresslevel": 5,
        "allow_origins": ["*"],
        "allow_credentials": False,
        "allow_methods": ["GET", "HEAD", "POST", "OPTIONS"],
        "allow_headers": ["Accept", "Content-Type"],
        "expose_headers": ["X-Result-Rows", "Content-Disposition", "ETag"],
        "max_age": 3600,
    }
    app.add_middleware(FinishAnswers, **finishing)
    # The HTTP protocol's fast path for /sparql GETs answered at once (server.protocol.fast), with
    # the same finishing policy.
    app.state.fast_answers = FastAnswers(app.state, FinishAnswers(app, **finishing), metrics)
    app.add_middleware(HeadAsGet)  # outside gzip: HEAD gets the headers of the GET it stands for
    app.add_middleware(AccessLog, metrics=metrics)
    # Outermost: the public scheme, host and client from PLANKG_TRUSTED_PROXIES only.
    app.add_middleware(ForwardedHeaders, trusted=settings.trusted_proxies)
    return app


def serve(settings: Settings) -> int:
    """Run the server until interrupted (the CLI's ``plankg serve``); the exit status.

    The store is opened first, so that a missing store or an unreadable data file is reported as
    a domain error before anything listens. With more than one server process (``server_processes``,
    0: one per core) the store is opened once to check it, then ``server.ops.processes`` runs them.
    """
    import uvicorn

    from server.ops.processes import cores, serve_processes

    count = settings.server_processes or cores()
    if count > 1:
        open_store(settings).close()
        return serve_processes(settings, count)
    configure_logging("%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = open_store(settings)
    try:
        uvicorn.run(
            create_app(settings, store, close_store=True),
            host=settings.host,
            port=settings.port,
            access_log=False,  # AccessLog logs each request with its outcome
            proxy_headers=False,  # server.protocol.forwarded decides, from PLANKG_TRUSTED_PROXIES only
            http=guarded_protocol(),  # slow requests and unread answers are cut (server.ops.slowclients)
            log_level="info",
        )
    finally:
        store.close()  # if uvicorn never got to the lifespan; closing twice is harmless
    return 0
