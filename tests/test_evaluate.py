"""server.protocol.sparql._evaluate: a quick answer costs no watcher of the client; a slow one is watched,
and a client that hangs up stops it."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from starlette.requests import Request

from server.errors import QueryCancelled
from server.ops.fairness import Limits, LocalLimiter
from server.protocol import sparql
from server.protocol.results import Solutions
from server.protocol.sparql import QueryRequest, _evaluate
from server.settings import Settings
from server.stores.oxigraph import FormatChoice, QueryOutcome, ResultKind

ANSWER = QueryOutcome(ResultKind.SOLUTIONS, 0, value=Solutions((), ()))


class FakeStore:
    """Answers after ``seconds``, or raises QueryCancelled as soon as ``cancel`` is set."""

    build_id = "fake"
    triple_count = 0

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def query(self, sparql: str, *, cancel: threading.Event | None = None, **_: Any) -> QueryOutcome:
        assert cancel is not None
        if cancel.wait(self.seconds):
            raise QueryCancelled("the client went away")
        return ANSWER


def request(receive: Any) -> Request:
    state = SimpleNamespace(
        query_limiter=anyio.CapacityLimiter(4), fairness=LocalLimiter(Limits()), settings=Settings()
    )
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/sparql",
        "headers": [],
        "app": SimpleNamespace(state=state),
    }
    return Request(scope, receive)


def evaluate(store: FakeStore, receive: Any) -> QueryOutcome:
    async def run() -> QueryOutcome:
        return await _evaluate(
            request(receive),
            store,
            Settings(),
            QueryRequest("ASK {}"),
            FormatChoice(None, None),  # type: ignore[arg-type]
        )

    return anyio.run(run)


def test_a_quick_answer_never_waits_on_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Quick" is an answer that comes before the client is due to be watched. Under the real 50 ms, a
    # loaded machine (the answer's thread not scheduled for 50 ms) made a store answering at once a
    # slow query, with its watcher; an hour apart, only a watcher started too soon is seen.
    monkeypatch.setattr(sparql, "_WATCH_CLIENT_AFTER", 3600.0)
    receives: list[float] = []

    async def receive() -> dict[str, Any]:
        # The one look at the client once a slot is granted (server.ops.admission.give_up_if_gone:
        # request.is_disconnected, in a scope cancelled at once) ends here; a watcher goes on.
        await anyio.sleep(0)
        receives.append(time.monotonic())
        await anyio.sleep(3600)
        raise AssertionError("unreachable")

    assert evaluate(FakeStore(0.0), receive) is ANSWER
    assert receives == []


def test_a_slow_query_whose_client_hangs_up_is_stopped() -> None:
    async def receive() -> dict[str, Any]:
        await anyio.sleep(0.1)
        return {"type": "http.disconnect"}

    start = time.monotonic()
    with pytest.raises(QueryCancelled):
        evaluate(FakeStore(10.0), receive)
    assert time.monotonic() - start < 2.0


def test_a_query_admitted_at_once_does_not_look_at_its_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # The look at the client once a slot is granted (give_up_if_gone) is for queries that waited for
    # one; on a query admitted at once it was a cancelled receive on every request, for nothing.
    monkeypatch.setattr(sparql, "_WATCH_CLIENT_AFTER", 3600.0)
    looks: list[str] = []

    async def receive() -> dict[str, Any]:
        looks.append("receive")
        await anyio.sleep(3600)
        raise AssertionError("unreachable")

    assert evaluate(FakeStore(0.0), receive) is ANSWER
    assert looks == []


class CountingStore(FakeStore):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.asked = 0

    def query(self, sparql: str, *, cancel: threading.Event | None = None, **_: Any) -> QueryOutcome:
        self.asked += 1
        return super().query(sparql, cancel=cancel)


def test_a_query_that_waited_for_a_slot_whose_client_left_never_runs() -> None:
    limiter = LocalLimiter(Limits(concurrent=1, queued=4, slots=1, seconds_per_minute=0))
    store = CountingStore(0.0)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def run() -> None:
        waiting = request(receive)
        waiting.app.state.fairness = limiter
        async with limiter.admit("another client"):  # the only slot, taken
            task = asyncio.ensure_future(
                _evaluate(waiting, store, Settings(), QueryRequest("ASK {}"), FormatChoice(None, None))  # type: ignore[arg-type]
            )
            await anyio.sleep(0.05)
            assert not task.done()  # waiting for the slot
        with pytest.raises(QueryCancelled, match="waited for a query slot"):
            await task

    anyio.run(run)
    assert store.asked == 0
    assert limiter.stats()["running"] == 0
