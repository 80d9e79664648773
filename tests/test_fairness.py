"""Per-client limits (server.ops.fairness): concurrency, queue, query-seconds per minute, 429/503."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from server.app import client_limits, create_app
from server.errors import QueryCancelled, ServerBusy, TooManyRequests
from server.ops.admission import admitted
from server.ops.fairness import Limits, LocalLimiter, client_of
from server.settings import Settings
from tests.conftest import BuiltPlan, TestClient
from tests.seed import SLUG


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_a_client_at_its_limit_waits_and_another_client_runs_at_once() -> None:
    limiter = LocalLimiter(Limits(concurrent=1, queued=4, slots=2, seconds_per_minute=0))
    order: list[str] = []

    async def scenario() -> None:
        release = asyncio.Event()

        async def query(client: str, name: str) -> None:
            async with limiter.admit(client):
                order.append(f"start {name}")
                if name == "a1":
                    await release.wait()
                order.append(f"end {name}")

        a1 = asyncio.create_task(query("10.0.0.1", "a1"))
        await asyncio.sleep(0.01)
        a2 = asyncio.create_task(query("10.0.0.1", "a2"))  # same client: waits for a1
        await asyncio.sleep(0.01)
        assert limiter.stats() == {"running": 1, "waiting": 1, "clients": 1}
        await query("10.0.0.2", "b")  # another client: runs now, while a1 holds a slot
        assert order == ["start a1", "start b", "end b"]
        release.set()
        await asyncio.gather(a1, a2)
        assert order[3:] == ["end a1", "start a2", "end a2"]
        assert limiter.stats() == {"running": 0, "waiting": 0, "clients": 0}

    run(scenario())


def test_past_its_queue_a_client_gets_429_with_retry_after() -> None:
    limiter = LocalLimiter(Limits(concurrent=1, queued=1, slots=4, seconds_per_minute=0))

    async def scenario() -> None:
        hold = asyncio.Event()

        async def query() -> None:
            async with limiter.admit("c"):
                await hold.wait()

        tasks = [asyncio.create_task(query()) for _ in range(2)]  # one runs, one waits
        await asyncio.sleep(0.01)
        with pytest.raises(
            TooManyRequests, match=r"1 queries running and 1 waiting; the limits are 1 and 1"
        ) as e:
            async with limiter.admit("c"):
                pass
        assert e.value.extra["retry_after"] == 1
        async with limiter.admit("other"):  # another client is not refused
            pass
        hold.set()
        await asyncio.gather(*tasks)

    run(scenario())


def test_past_the_shared_queue_the_server_is_busy() -> None:
    limiter = LocalLimiter(Limits(concurrent=1, queued=5, slots=1, queue=1, seconds_per_minute=0))

    async def scenario() -> None:
        hold = asyncio.Event()

        async def query(client: str) -> None:
            async with limiter.admit(client):
                await hold.wait()

        tasks = [asyncio.create_task(query(c)) for c in ("a", "b")]  # a runs, b waits
        await asyncio.sleep(0.01)
        with pytest.raises(ServerBusy, match="1 queries are waiting already"):
            async with limiter.admit("c"):
                pass
        hold.set()
        await asyncio.gather(*tasks)

    run(scenario())


def test_a_query_that_waits_its_whole_time_limit_is_503() -> None:
    limiter = LocalLimiter(Limits(concurrent=1, queued=5, slots=1, wait=0.05, seconds_per_minute=0))

    async def scenario() -> None:
        hold = asyncio.Event()

        async def query() -> None:
            async with limiter.admit("a"):
                await hold.wait()

        task = asyncio.create_task(query())
        await asyncio.sleep(0.01)
        with pytest.raises(ServerBusy, match=r"no query slot came free within 0.05 s"):
            async with limiter.admit("b"):
                pass
        assert limiter.stats()["waiting"] == 0
        hold.set()
        await task

    run(scenario())


def spender(limiter: LocalLimiter, clock: Clock) -> Callable[[float], Awaitable[None]]:
    """A query of client "c" that runs ``seconds`` on the fake clock."""

    async def spend(seconds: float) -> None:
        async with limiter.admit("c"):
            clock.now += seconds

    return spend


def test_the_query_seconds_budget_refuses_until_the_minute_has_passed() -> None:
    clock = Clock()
    limiter = LocalLimiter(Limits(concurrent=2, seconds_per_minute=10), clock=clock)
    spend = spender(limiter, clock)

    async def scenario() -> None:
        await spend(4)  # ends at 1004
        clock.now += 10
        await spend(7)  # ends at 1021: 11 s in the minute
        with pytest.raises(
            TooManyRequests, match=r"used 11.0 s of query time in the last minute; the limit is 10 s"
        ) as e:
            await spend(0)
        # The first 4 s expire at 1064: then 7 s are left in the window, under the budget.
        assert e.value.extra["retry_after"] == 1064 - 1021
        clock.now = 1064.5
        await spend(1)
        async with limiter.admit("another"):
            pass

    run(scenario())


def test_the_budget_counts_exactly_the_queries_of_the_last_minute_over_many_queries() -> None:
    """The seconds a client used are kept as a running total (not summed over the minute's queries on
    every admission): it stays exact as thousands of queries come and expire."""
    clock = Clock()
    limiter = LocalLimiter(Limits(concurrent=1, seconds_per_minute=30), clock=clock)
    spend = spender(limiter, clock)

    async def scenario() -> None:
        for _ in range(5000):  # 0.01 s of query every 0.06 s: 10 s used per minute, never refused
            await spend(0.01)
            clock.now += 0.05
        state = limiter._clients["c"]
        assert 999 <= len(state.spent) <= 1001  # the window's edge falls between two queries
        assert state.used == pytest.approx(sum(s for _, s in state.spent))
        assert state.used == pytest.approx(10.0, abs=0.011)
        clock.now += 60  # all of it expires: the client starts again from nothing
        await spend(29.0)
        await spend(0.5)  # 29.0 s used: under the 30 s
        await spend(0.6)  # 29.5 s used: still under
        with pytest.raises(TooManyRequests, match=r"used 30\.1 s of query time in the last minute"):
            await spend(0)

    run(scenario())


def test_the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    proxies = {"10.0.0.9", "10.0.0.8"}
    assert client_of("203.0.113.5", "198.51.100.1", proxies) == "203.0.113.5"  # not a proxy: header ignored
    assert client_of("10.0.0.9", "198.51.100.1", proxies) == "198.51.100.1"
    # A client's own X-Forwarded-For entry is to the left; the rightmost untrusted hop is the client.
    assert client_of("10.0.0.9", "6.6.6.6, 198.51.100.1, 10.0.0.8", proxies) == "198.51.100.1"
    assert client_of("10.0.0.9", "not-an-address", proxies) == "10.0.0.9"
    assert client_of("10.0.0.9", None, proxies) == "10.0.0.9"
    assert client_of(None, "1.2.3.4", proxies) == "(unknown)"


def test_http_429_carries_retry_after_and_names_the_limit(built_plan: BuiltPlan) -> None:
    settings = dataclasses.replace(built_plan.settings, client_query_seconds=1e-9, answer_cache_bytes=0)
    with TestClient(create_app(settings)) as client:
        first = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert first.status_code == 200
        r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert r.status_code == 429
        assert r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        body = r.json()
        assert body["title"] == "Too many requests"
        assert "of query time in the last minute; the limit is 1e-09 s" in body["detail"]
        # A canned query counts against the same client.
        assert client.get("/queries/plan-totals").status_code == 429
        # Another client (behind a trusted proxy) is not refused.
    proxy = ipaddress.ip_network("10.0.0.9")
    proxied = dataclasses.replace(settings, trusted_proxies=(proxy,))
    with TestClient(create_app(proxied), client=("10.0.0.9", 50000)) as client:
        assert (
            client.get(
                "/sparql", params={"query": "ASK {}"}, headers={"X-Forwarded-For": "192.0.2.1"}
            ).status_code
            == 200
        )
        assert (
            client.get(
                "/sparql", params={"query": "ASK {}"}, headers={"X-Forwarded-For": "192.0.2.1"}
            ).status_code
            == 429
        )
        assert (
            client.get(
                "/sparql", params={"query": "ASK {}"}, headers={"X-Forwarded-For": "192.0.2.2"}
            ).status_code
            == 200
        )


# --- the reserve: heavy clients leave a slot to the others --------------------------------------------


def _heavy_limits(**changes: object) -> Limits:
    base = Limits(concurrent=1, queued=4, slots=2, seconds_per_minute=0, reserve=1, heavy_seconds=15)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_heavy_clients_together_leave_a_slot_to_a_light_client() -> None:
    clock = Clock()
    limiter = LocalLimiter(_heavy_limits(), clock=clock)
    order: list[str] = []

    async def scenario() -> None:
        for client in ("heavy-a", "heavy-b"):  # 20 s of queries each in the last minute
            async with limiter.admit(client):
                clock.now += 20
        assert limiter.heavy("heavy-a") and limiter.heavy("heavy-b") and not limiter.heavy("light")
        release = asyncio.Event()

        async def query(client: str) -> None:
            async with limiter.admit(client):
                order.append(f"start {client}")
                if client == "heavy-a":
                    await release.wait()
                order.append(f"end {client}")

        a = asyncio.create_task(query("heavy-a"))
        await asyncio.sleep(0.01)
        b = asyncio.create_task(query("heavy-b"))  # one slot is free, but it is the reserve
        await asyncio.sleep(0.01)
        assert limiter.stats() == {"running": 1, "waiting": 1, "clients": 2}
        await query("light")  # the reserve: runs at once, beside heavy-a
        assert order == ["start heavy-a", "start light", "end light"]
        release.set()
        await asyncio.gather(a, b)
        assert order[3:] == ["end heavy-a", "start heavy-b", "end heavy-b"]

    run(scenario())


def test_a_running_query_counts_as_far_as_it_has_run() -> None:
    clock = Clock()
    limiter = LocalLimiter(_heavy_limits(concurrent=2), clock=clock)

    async def scenario() -> None:
        release = asyncio.Event()

        async def long_query() -> None:
            async with limiter.admit("c"):
                await release.wait()

        first = asyncio.create_task(long_query())
        await asyncio.sleep(0.01)
        assert limiter.used("c") == 0 and not limiter.heavy("c")
        clock.now += 14.5
        assert limiter.used("c") == 14.5 and not limiter.heavy("c")
        clock.now += 0.5  # 15 s into its first query: heavy, so its second waits for more than the reserve
        assert limiter.heavy("c")
        second = asyncio.create_task(long_query())
        await asyncio.sleep(0.01)
        assert limiter.stats() == {"running": 1, "waiting": 1, "clients": 1}
        release.set()
        await asyncio.gather(first, second)
        # Both are spent: 15 s and 0 s; a minute later the client is light again.
        assert limiter.used("c") == 15 and limiter.heavy("c")
        clock.now += 60
        assert limiter.used("c") == 0 and not limiter.heavy("c")

    run(scenario())


@pytest.mark.parametrize(
    ("changes", "runs_at_once"), [({"reserve": 0}, True), ({"slots": 1}, True), ({}, False)]
)
def test_no_reserve_when_it_is_off_or_there_is_one_slot(
    changes: dict[str, object], runs_at_once: bool
) -> None:
    clock = Clock()
    limiter = LocalLimiter(_heavy_limits(**changes), clock=clock)

    async def scenario() -> None:
        async with limiter.admit("heavy"):
            clock.now += 30
        release = asyncio.Event()

        async def hold() -> None:
            async with limiter.admit("other"):
                await release.wait()

        others = asyncio.create_task(hold()) if limiter.limits.slots > 1 else None
        await asyncio.sleep(0.01)
        admission = limiter.admit("heavy")  # kept: a context manager no one holds is closed
        attempt = asyncio.create_task(admission.__aenter__())
        await asyncio.sleep(0.01)
        assert attempt.done() is runs_at_once
        release.set()
        if others is not None:
            await others
        await attempt  # it runs once the other client's query has ended
        assert limiter.stats()["running"] == 1
        await admission.__aexit__(None, None, None)

    run(scenario())


def test_the_setting_turns_the_reserve_on_and_off(built_plan: BuiltPlan) -> None:
    from server.app import client_limits
    from server.settings import Settings

    on = client_limits(built_plan.settings)
    assert (on.reserve, on.heavy_seconds) == (1, 15.0)
    off = client_limits(dataclasses.replace(built_plan.settings, client_heavy_seconds=0))
    assert off.reserve == 0
    env = Settings.from_env({"PLANKG_CLIENT_HEAVY_SECONDS": "2.5"})
    assert client_limits(env).heavy_seconds == 2.5


def test_admission_says_whether_the_query_runs_in_the_background() -> None:
    clock = Clock()
    limiter = LocalLimiter(_heavy_limits(), clock=clock)

    async def scenario() -> None:
        async with limiter.admit("c") as background:
            assert background is False  # light when admitted, however long it then runs
            clock.now += 20
        async with limiter.admit("c") as background:
            assert background is True
        async with limiter.admit("other") as background:
            assert background is False
        off = LocalLimiter(_heavy_limits(reserve=0), clock=clock)
        async with off.admit("c"):
            clock.now += 20
        async with off.admit("c") as background:
            assert background is False  # no reserve: no heavy clients, nothing in the background

    run(scenario())


# --- pages and charts count as queries ---------------------------------------------------------------


def test_pages_spend_the_budget_of_the_client_as_its_queries_do(built_plan: BuiltPlan) -> None:
    settings = dataclasses.replace(built_plan.settings, client_query_seconds=1e-9, answer_cache_bytes=0)
    pages = [
        "/",
        f"/plans/{SLUG}",
        "/search?q=%E6%B5%8E%E5%8D%97",
        "/charts/investment.svg",
        "/charts/targets.svg",
        f"/id/plan/{SLUG}",
        f"/doc/id/plan/{SLUG}",
        "/.well-known/void",
    ]
    app = create_app(settings)
    with TestClient(app) as client:
        for path in pages:
            app.state.fairness = LocalLimiter(client_limits(settings))  # a fresh minute
            assert client.get(path, follow_redirects=False).status_code in (200, 303), path
            # The page spent this client's query time: its next query and its next page are refused.
            refused = client.get("/sparql", params={"query": "ASK {}"})
            assert refused.status_code == 429, path
            assert "of query time in the last minute; the limit is 1e-09 s" in refused.json()["detail"]
            again = client.get(path, follow_redirects=False)
            assert again.status_code == 429, path
            assert again.json()["title"] == "Too many requests"
        # What asks the store nothing is not counted: the query page, static files.
        assert client.get("/query").status_code == 200
    proxy = ipaddress.ip_network("10.0.0.9")
    proxied = dataclasses.replace(settings, trusted_proxies=(proxy,))
    with TestClient(create_app(proxied), client=("10.0.0.9", 50000)) as client:
        crawler, other = {"X-Forwarded-For": "192.0.2.1"}, {"X-Forwarded-For": "192.0.2.2"}
        assert client.get(f"/doc/id/plan/{SLUG}", headers=crawler).status_code == 200
        assert client.get(f"/doc/id/plan/{SLUG}", headers=crawler).status_code == 429
        # Another client's query still runs.
        assert client.get("/sparql", params={"query": "ASK {}"}, headers=other).status_code == 200


def test_a_request_whose_client_left_while_it_waited_does_not_run() -> None:
    # A client polling with a short timeout left a queue of abandoned page requests that each ran in
    # turn once admitted; now the slot it gets is given back at once, 499.
    limiter = LocalLimiter(Limits(concurrent=1, queued=4, slots=1, seconds_per_minute=0))
    state = SimpleNamespace(fairness=limiter, settings=Settings())
    ran: list[str] = []

    def request(gone: bool) -> Request:
        async def receive() -> dict[str, object]:
            return {"type": "http.disconnect"} if gone else {"type": "http.request", "body": b""}

        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "client": ("192.0.2.1", 1)}
        return Request({**scope, "app": SimpleNamespace(state=state)}, receive)

    async def page(gone: bool) -> None:
        async with contextlib.asynccontextmanager(admitted)(request(gone)):
            ran.append("gone" if gone else "here")

    async def main() -> None:
        gone = r"^the client closed the connection while its request waited for a query slot$"
        with pytest.raises(QueryCancelled, match=gone):
            await page(gone=True)
        await page(gone=False)
        assert limiter.stats()["running"] == 0

    run(main())
    assert ran == ["here"]
