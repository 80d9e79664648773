"""A rebuild while the server runs: the server notices the swapped-in store, starts workers on it, retires
the old ones, and no longer answers from the old build or its cached answers; no request fails meanwhile.

A real build (the seed, SHACL and all) into a temporary directory, rebuilt with one more triple.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from mapping.build import build
from mapping.graph import document_graph
from mapping.vocab import Vocab
from server.app import create_app
from server.settings import Settings
from server.stores.oxigraph import OxigraphStore

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
MARKER = "http://example.org/rebuilt"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ASK_MARKER = f"ASK {{ <{MARKER}> ?p ?o }}"
JSON = {"accept": "application/sparql-results+json"}


def with_marker(raw: str, source_name: str, vocab: Vocab) -> Graph:
    graph = document_graph(raw, source_name, vocab)
    graph.add((URIRef(MARKER), URIRef(MARKER + "#note"), Literal("a second build")))
    return graph


def quiet_build(root: Path, **kwargs: object) -> str:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        return build(SEEDS, root / "dist", root / "store", **kwargs).build_id  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Path, str]]:
    first = quiet_build(tmp_path)
    settings = Settings(store_dir=tmp_path / "store", dist_dir=tmp_path / "dist")
    with TestClient(create_app(settings)) as client:
        yield client, tmp_path, first


def count(client: TestClient) -> int:
    reply = client.get("/sparql", params={"query": COUNT}, headers=JSON)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["results"]["bindings"][0]["n"]["value"])


def test_a_rebuild_is_served_without_a_restart_and_without_a_failed_request(
    served: tuple[TestClient, Path, str],
) -> None:
    client, root, first = served
    store = client.app.state.store  # type: ignore[attr-defined]
    assert isinstance(store, OxigraphStore)
    before = count(client)
    assert count(client) == before  # now also in the answer cache
    assert client.app.state.answer_cache.hits >= 1  # type: ignore[attr-defined]
    old_pids = store.worker_pids()

    answers: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            reply = client.get("/sparql", params={"query": COUNT, "x": str(len(answers))}, headers=JSON)
            if reply.status_code != 200:
                failures.append(f"{reply.status_code} {reply.text}")
            else:
                answers.append(int(reply.json()["results"]["bindings"][0]["n"]["value"]))

    asking = threading.Thread(target=keep_asking)
    asking.start()
    try:
        second = quiet_build(root, make_graph=with_marker)
        assert second != first
        assert wait_for(lambda: client.get("/healthz").json()["build_id"] == second, 30.0)
        time.sleep(0.3)  # a few more queries on the new build
    finally:
        stop.set()
        asking.join()

    assert failures == []
    assert answers and set(answers) <= {before, before + 1}
    assert answers[-1] == before + 1
    # The cached answer of the old build is not served any more.
    assert count(client) == before + 1
    reply = client.get("/sparql", params={"query": ASK_MARKER}, headers=JSON)
    assert reply.status_code == 200 and reply.json()["boolean"] is True
    # The old build's workers are gone, the new ones serve.
    assert wait_for(lambda: not any(alive(pid) for pid in old_pids), 10.0)
    assert set(store.worker_pids()).isdisjoint(old_pids)
    assert len(store.worker_pids()) == 2
