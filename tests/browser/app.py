"""The app the in-process page tests (tests/test_pages.py) serve: ``server.app.create_app`` over the
hand-written fixture (a few pillars and tasks whose quotes are checked against the seed text).

The browser tests serve the real build instead (``plankg serve``, see tests/test_browser.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from mapping.vocab import Vocab
from server.app import create_app
from server.settings import Settings
from server.stores.oxigraph import OxigraphStore, Store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "ui-sample.ttl"


def fixture_settings() -> Settings:
    return Settings(data_files=(FIXTURE,), without_plan=True, query_workers=1)


def open_store(settings: Settings) -> Store:
    return OxigraphStore(
        None, data_files=settings.data_files, workers=1, prefixes=Vocab(settings.base).prefixes()
    )


def build_app(settings: Settings, store: Store) -> FastAPI:
    """The whole app (endpoint, pages, front end) over ``store``, which stays the caller's to close."""
    return create_app(settings, store=store)
