"""Fixtures shared by test modules: the real plan built once per session, and an app serving it."""

from __future__ import annotations

import socket
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mapping.build import BuildResult, build
from mapping.entities import Catalogue, Mention
from mapping.model import Plan
from server.app import create_app
from server.settings import Settings
from tests import seed

with warnings.catch_warnings():
    # Starlette warns once, at import, that it would rather drive httpx2; httpx works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


__all__ = [
    "BuiltPlan",
    "TestClient",
    "built_plan",
    "canary",
    "catalogue",
    "mentions",
    "plan",
    "plan_client",
    "raw",
]


@dataclass(frozen=True)
class BuiltPlan:
    result: BuildResult
    settings: Settings
    source: str  # the seed text as shipped

    @property
    def dist(self) -> Path:
        return self.settings.dist_dir


@pytest.fixture(scope="session")
def built_plan(tmp_path_factory: pytest.TempPathFactory) -> BuiltPlan:
    """``plankg build`` of the seed into a temporary directory (once per test session)."""
    root = tmp_path_factory.mktemp("built-plan")
    with warnings.catch_warnings():
        # pyshacl compares rdflib literals in a way rdflib 7.6 deprecates; not ours to fix here.
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        result = build(SEEDS, root / "dist", root / "store", linksets_dir=REPO / "linksets")
    source_file = next(SEEDS.glob("*.txt"))
    source = source_file.read_bytes().decode("utf-8")
    settings = Settings(store_dir=root / "store", dist_dir=root / "dist")
    return BuiltPlan(result, settings, source)


@pytest.fixture(scope="session")
def plan_client(built_plan: BuiltPlan) -> Iterator[TestClient]:
    """An in-process client of the whole app over the built plan (its store opened once)."""
    with TestClient(create_app(built_plan.settings)) as client:
        yield client


@pytest.fixture()
def canary() -> Iterator[tuple[int, list[object]]]:
    """A listening socket on loopback that records every connection made to it: (port, peers)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    hits: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            hits.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], hits
    stop.set()
    thread.join()
    listener.close()


# The seed and what the mapping reads from it (tests.seed computes each once per session).
@pytest.fixture(scope="session")
def raw() -> str:
    return seed.raw()


@pytest.fixture(scope="session")
def plan() -> Plan:
    return seed.plan()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return seed.catalogue()


@pytest.fixture(scope="session")
def mentions() -> tuple[Mention, ...]:
    return seed.mentions()


@pytest.fixture()
def fresh_safety_parse_cache() -> Iterator[None]:
    """server.protocol.safety's parse of SERVICE targets is cached: a test that uses this meets the
    parser itself, not an answer an earlier test left in the cache (with the cache, every mutant of the
    SERVICE collector survived the tests after the first)."""
    from server.protocol.safety import _parsed_service_targets

    _parsed_service_targets.cache_clear()
    yield
    _parsed_service_targets.cache_clear()
