"""server.stores.cache: least recently used answers go first when the byte budget is spent."""

from __future__ import annotations

from server.stores.cache import AnswerCache
from tests.conftest import TestClient


def test_evicts_least_recently_used_beyond_the_budget() -> None:
    cache: AnswerCache[str] = AnswerCache(max_bytes=10, max_entry_bytes=10)
    cache.put("a", "A", 4)
    cache.put("b", "B", 4)
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("c", "C", 4)  # 12 > 10: b goes
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == ("A", "C")
    assert cache.size == 8 and len(cache) == 2
    assert (cache.hits, cache.misses) == (3, 1)


def test_large_answers_are_not_kept_and_replacing_keeps_the_count_right() -> None:
    cache: AnswerCache[str] = AnswerCache(max_bytes=100)
    cache.put("big", "X", 50)  # over the per-entry limit of 100 // 16
    assert cache.get("big") is None
    cache.put("k", "1", 5)
    cache.put("k", "2", 6)
    assert cache.get("k") == "2" and cache.size == 6


def test_zero_budget_keeps_nothing() -> None:
    cache: AnswerCache[str] = AnswerCache(max_bytes=0)
    cache.put("k", "v", 0)
    assert not cache.enabled and cache.get("k") is None and len(cache) == 0


def test_a_new_build_drops_every_answer_of_the_old_one() -> None:
    cache: AnswerCache[str] = AnswerCache(max_bytes=100)
    cache.use_build("b1")
    cache.put(("b1", "q"), "old", 5)
    cache.use_build("b1")  # the same build: kept
    assert cache.get(("b1", "q")) == "old"
    cache.use_build("b2")
    assert len(cache) == 0 and cache.size == 0


def test_an_entry_counts_its_query_text_as_well_as_its_answer(plan_client: TestClient) -> None:
    # Distinct query texts with small answers held memory the byte budget did not count (bench/soak.py).
    cache = plan_client.app.state.answer_cache  # type: ignore[attr-defined]
    before = cache.size
    query = "ASK { ?s ?p ?o } # " + "济" * 1000
    r = plan_client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert r.status_code == 200 and r.headers["x-cache"] == "miss"
    assert cache.size - before == len(r.content) + len(query.encode()) + 512
