"""The app the page and browser tests serve: ``server.app.create_app`` over the fixture."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from mapping.vocab import Vocab
from server.app import create_app
from server.settings import Settings
from server.store import OxigraphStore, Store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "ui-sample.ttl"


def fixture_settings() -> Settings:
    return Settings(data_files=(FIXTURE,), without_plan=True, query_workers=1)


def open_store(settings: Settings) -> Store:
    return OxigraphStore(
        None, data_files=settings.data_files, workers=1, prefixes=Vocab(settings.base).prefixes()
    )


def build_app(settings: Settings, store: Store) -> FastAPI:
    """The real app (an ImportError in server.app fails the tests, no fallback hides it)."""
    return create_app(settings, store=store)


def make_app() -> FastAPI:
    """uvicorn ``--factory`` entry point for the browser tests' server process."""
    settings = fixture_settings()
    store = open_store(settings)
    # The store's worker processes end with the server's process group (see harness.serve).
    return build_app(settings, store)
