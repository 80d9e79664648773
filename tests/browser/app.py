"""The app the page and browser tests serve: ``server.app.create_app`` over the fixture once it exists,
else the front-end routers alone (then /sparql is not served and the query test says so)."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mapping.vocab import Vocab
from server import pages, ui
from server.errors import PlanKGError, problem_for
from server.settings import Settings
from server.store import OxigraphStore, Store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "ui-sample.ttl"


def has_create_app() -> bool:
    try:
        module = importlib.import_module("server.app")
    except ImportError:
        return False
    return hasattr(module, "create_app")


def fixture_settings() -> Settings:
    return Settings(data_files=(FIXTURE,), without_plan=True, query_workers=1)


def open_store(settings: Settings) -> Store:
    return OxigraphStore(
        None, data_files=settings.data_files, workers=1, prefixes=Vocab(settings.base).prefixes()
    )


def serves_front_end(app: FastAPI) -> bool:
    """create_app installs the query page when it includes the front end's routers."""
    return getattr(app.state, "query_page", None) is not None


def build_app(settings: Settings, store: Store) -> FastAPI:
    if has_create_app():
        module = importlib.import_module("server.app")
        app: FastAPI = module.create_app(settings, store=store)
        if not serves_front_end(app):
            # Until create_app includes the front end itself: the same wiring it is asked to add.
            app.include_router(pages.router(settings, lambda: app.state.store))
            app.include_router(ui.router(settings, lambda: app.state.store))
            app.state.query_page = ui.query_page_handler(settings)
        return app
    app = FastAPI(docs_url=None, redoc_url=None)
    app.include_router(pages.router(settings, store))
    app.include_router(ui.router(settings, store))

    @app.exception_handler(PlanKGError)
    async def domain_error(request: Request, exc: PlanKGError) -> JSONResponse:
        status, body, headers = problem_for(exc)
        return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")

    return app


def make_app() -> FastAPI:
    """uvicorn ``--factory`` entry point for the browser tests' server process."""
    settings = fixture_settings()
    store = open_store(settings)
    # The store's worker processes end with the server's process group (see harness.serve).
    return build_app(settings, store)
