"""A heavy client's queries run in the background (server.ops.priority, server.ops.fairness): who is
decided by the limiter, and the query workers evaluate them in a thread at niceness 19."""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any

import pytest

from server.app import create_app, open_store
from server.ops import priority
from server.stores.interface import QueryOutcome, Store
from tests.conftest import BuiltPlan, TestClient


def test_the_lane_runs_at_the_lowest_priority_and_leaves_the_caller_alone() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine = niceness()
    lane = priority.Lane()
    assert lane.niceness == priority.LOWEST == 19
    assert lane.call(niceness) == 19
    assert niceness() == mine
    with pytest.raises(ZeroDivisionError):
        lane.call(lambda: 1 // 0)
    assert lane.call(lambda: "still answers") == "still answers"


def test_run_in_background_sets_the_flag_for_the_call_only() -> None:
    assert priority.run_in_background(True, priority.BACKGROUND.get) is True
    assert priority.BACKGROUND.get() is False
    assert priority.run_in_background(False, priority.BACKGROUND.get) is False


class Spy:
    """The real store, noting whether each query was asked for in the background."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.background: list[bool] = []

    def query(self, sparql: str, **kwargs: Any) -> QueryOutcome:
        self.background.append(priority.BACKGROUND.get())
        return self.inner.query(sparql, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_heavy_clients_queries_run_in_the_background_and_a_light_ones_do_not(built_plan: BuiltPlan) -> None:
    # Heavy past a nanosecond of query time: every client is light for its first query only.
    settings = dataclasses.replace(built_plan.settings, client_heavy_seconds=1e-9, answer_cache_bytes=0)
    store = open_store(settings)
    spy = Spy(store)
    try:
        with TestClient(create_app(settings, spy)) as client:  # type: ignore[arg-type]
            for n in range(3):
                r = client.get("/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) {{ ?s ?p ?o }} # {n}"})
                assert r.status_code == 200
                assert int(r.json()["results"]["bindings"][0]["n"]["value"]) > 9000
        assert spy.background == [False, True, True]
        off = dataclasses.replace(settings, client_heavy_seconds=0)
        spy.background.clear()
        with TestClient(create_app(off, spy)) as client:  # type: ignore[arg-type]
            for n in range(2):
                assert client.get("/sparql", params={"query": f"ASK {{ ?s ?p ?o }} # {n}"}).status_code == 200
        assert spy.background == [False, False]
    finally:
        store.close()


def test_the_workers_answer_in_the_background_as_in_the_foreground(built_plan: BuiltPlan) -> None:
    store = open_store(built_plan.settings)
    try:
        query = "SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"
        foreground = store.query(query)
        background = priority.run_in_background(True, store.query, query)
        assert background.rows == foreground.rows > 20
        assert background.value == foreground.value
    finally:
        store.close()
