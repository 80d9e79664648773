"""A rebuild after one changed plan re-processes only that plan (issue 8, point 5): its citations are
resolved again, its dump chunks serialised and compressed again, the store is the previous one updated
by the dumps' difference, and the tables' rows are read again only where they may have changed — with
output byte for byte that of a cold build (no cache) of the same seeds over the same previous build,
and the same quads in the store.

The corpus is tests/fixtures/corpus/ (four fictional plans; qingchuan implements donghai by its title,
so a citation is resolved between plans)."""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from mapping import build as b
from mapping import chunks, dumps, incremental, spill, tables
from mapping.vocab import Vocab
from tests.test_stream_build import files, quiet_build

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus"
VOCAB = Vocab("http://127.0.0.1:8000/")
BAILU = "bailu-county-commerce-2023-2025.txt"
DONGHAI = "donghai-industry-green-transition-2024-2026.txt"
QINGCHUAN = "qingchuan-industry-green-transition-2024-2026.txt"


def store_quads(root: Path) -> set[ox.Quad]:
    store = ox.Store.read_only(str(root / "var" / "store"))
    try:
        return set(store)
    finally:
        del store


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@dataclass(frozen=True)
class Rebuilt:
    first: b.BuildResult
    incremental: b.BuildResult
    cold: b.BuildResult
    inc: Path  # the incremental rebuild's output (dist, var)
    cold_root: Path  # the cold build's, over a copy of the same previous output
    slugs: dict[str, str]  # file name → slug


def rebuild(root: Path, change: tuple[str, str, str]) -> Rebuilt:
    """Build the corpus with the cache, change one plan, then build again both ways: with the cache
    (incremental) and without (cold), each over its own copy of the first build's output."""
    seeds = root / "seeds"
    shutil.copytree(CORPUS, seeds, ignore=shutil.ignore_patterns("malformed", "README.md"))
    first = quiet_build(seeds, root / "inc")
    slugs = {p.source_name: p.slug for p in first.plans}
    (root / "cold").mkdir()
    shutil.copytree(root / "inc" / "dist", root / "cold" / "dist")
    shutil.copytree(root / "inc" / "var" / "store", root / "cold" / "var" / "store")
    shutil.copytree(root / "inc" / "var" / "versions", root / "cold" / "var" / "versions")
    name, old, new = change
    edit(seeds / name, old, new)
    # Leftovers of builds killed while writing an entry: one from before this build, one (its clock
    # says) from a build that may still be running.
    for leftover, age in ((".dead.new-killed", -3600), (".live.new-running", 3600)):
        (root / "inc" / "var" / "cache" / "plans" / leftover).mkdir()
        os.utime(root / "inc" / "var" / "cache" / "plans" / leftover, (time.time() + age,) * 2)
    incremental_result = quiet_build(seeds, root / "inc")
    # A cold build (its cache empty: nothing to reuse), whose cache holds what it used.
    cold = quiet_build(seeds, root / "cold", cache_dir=root / "cold-cache")
    return Rebuilt(first, incremental_result, cold, root / "inc", root / "cold", slugs)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rebuilt]:
    # A figure in the text of bailu's plan: no other plan cites it, its title (its key) stays.
    yield rebuild(tmp_path_factory.mktemp("incremental"), (BAILU, "1000人次", "1200人次"))


def test_a_rebuild_is_byte_identical_to_a_cold_build(rebuilt: Rebuilt) -> None:
    assert rebuilt.incremental.build_id == rebuilt.cold.build_id != rebuilt.first.build_id
    inc, cold = files(rebuilt.inc / "dist"), files(rebuilt.cold_root / "dist")
    assert inc.keys() == cold.keys()
    assert [n for n in inc if inc[n] != cold[n]] == []
    # the change set (written from the chunks that changed, not a walk over both dumps) says what changed
    assert b'"previous": "' + rebuilt.first.build_id.encode() + b'"' in inc["changes.json"]
    assert inc["changes.added.nq"] and inc["changes.removed.nq"]
    # every kept version's files too
    versions = files(rebuilt.inc / "var" / "versions")
    assert versions == files(rebuilt.cold_root / "var" / "versions")


def test_the_updated_store_holds_the_cold_stores_quads(rebuilt: Rebuilt) -> None:
    inc, cold = store_quads(rebuilt.inc), store_quads(rebuilt.cold_root)
    assert len(inc) == rebuilt.cold.quads + len(
        list(ox.parse(path=str(rebuilt.cold_root / "dist" / "void.ttl"), format=ox.RdfFormat.TURTLE))
    )
    assert inc == cold
    assert b.read_build_info(rebuilt.inc / "var" / "store") == b.read_build_info(
        rebuilt.cold_root / "var" / "store"
    )


def test_the_corpus_wide_stages_process_only_the_changed_plan(rebuilt: Rebuilt) -> None:
    changed = rebuilt.slugs[BAILU]
    first, again, cold = rebuilt.first, rebuilt.incremental, rebuilt.cold
    # the first build did everything: every plan resolved, every chunk made, the store loaded whole
    assert set(first.resolved) == set(rebuilt.slugs.values()) == set(first.described)
    assert set(first.chunk_owners) >= set(rebuilt.slugs.values())
    assert first.store_delta is None and first.table_rows is None
    # the rebuild: one plan read, resolved, and serialised again ("": the shared entities' chunks,
    # which hold the plan's mentions of catalogued ones)
    assert again.parsed == (changed,)
    assert again.resolved == (changed,)
    assert again.described == (changed,)  # the other plans' descriptions from the cache
    assert set(again.chunk_owners) <= {changed, ""} and changed in again.chunk_owners
    # the previous store updated by the difference of the dumps, not loaded whole
    assert again.store_delta is not None
    added, removed = again.store_delta
    assert 0 < added < 50 and 0 < removed < 50 and again.quads > 10_000
    # rows read again: only those of the changed plan (and entities it names)
    assert again.table_rows is not None
    tables = {
        name: (rebuilt.cold_root / "dist" / f"plankg-{name}.csv").read_text(encoding="utf-8").splitlines()[1:]
        for name in again.table_rows
    }
    plan_space = str(VOCAB.thing("plan", changed))
    for name, redone in again.table_rows.items():
        mine = [row for row in tables[name] if row.startswith(plan_space)]
        assert redone <= len(mine) + 2, name
    assert again.table_rows["divisions"] > 0
    assert sum(again.table_rows.values()) < sum(len(rows) for rows in tables.values()) / 3
    # the cold build did everything again
    assert set(cold.resolved) == set(rebuilt.slugs.values()) and cold.store_delta is None


def test_a_cited_plans_new_title_resolves_its_citing_plan_again(tmp_path: Path) -> None:
    """qingchuan implements donghai by donghai's title: when that title changes, donghai's key does, and
    the plan citing it is resolved again (its citation becomes a stub), and only those two."""
    title = "东海省推进工业绿色低碳转型实施方案"
    assert title in (CORPUS / QINGCHUAN).read_text(encoding="utf-8")
    done = rebuild(tmp_path, (DONGHAI, title, "东海省推进工业绿色转型行动方案"))
    slugs = {p.source_name: p.slug for p in done.incremental.plans}
    assert set(done.incremental.resolved) == {slugs[DONGHAI], slugs[QINGCHUAN]}
    assert done.incremental.parsed == (slugs[DONGHAI],)
    inc, cold = files(done.inc / "dist"), files(done.cold_root / "dist")
    assert [n for n in inc.keys() | cold.keys() if inc.get(n) != cold.get(n)] == []
    assert store_quads(done.inc) == store_quads(done.cold_root)


def cache_listing(cache: Path) -> set[str]:
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def test_the_cache_keeps_what_the_rebuild_used_and_nothing_else(rebuilt: Rebuilt) -> None:
    """After a rebuild, the caches hold the entries it used (mapping.prune): exactly what a cold build
    of the same seeds makes in an empty cache (the changed plan's previous entry, resolved results and
    chunks, and the previous dump's chunk list, are gone), every file of every entry; a leftover of
    a killed build older than the rebuild is removed, a younger one is not."""
    cache = rebuilt.inc / "var" / "cache"
    visible = {name for name in cache_listing(cache) if "/." not in "/" + name}
    assert visible == cache_listing(rebuilt.cold_root.parent / "cold-cache")
    assert {p.name for p in (cache / "plans").iterdir() if p.name.startswith(".")} == {".live.new-running"}
    assert rebuilt.incremental.pruned is not None and rebuilt.incremental.pruned.leftovers == 1
    assert rebuilt.incremental.pruned.entries >= 1 + 1 + 1  # the plan, its resolved results, the old index
    old_index = incremental.index_path(cache, "x").parent
    assert len(list(old_index.iterdir())) == 1


def changed_copy(rebuilt: Rebuilt, tmp_path: Path, figure: str) -> tuple[Path, Path]:
    """A copy of the rebuilt output (``out``) and the corpus with bailu's figure changed (``seeds``)."""
    root = tmp_path / "out"
    shutil.copytree(rebuilt.inc, root)
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds, ignore=shutil.ignore_patterns("malformed", "README.md"))
    edit(seeds / BAILU, "1000人次", figure)
    return root, seeds


def test_a_build_that_fails_at_its_swap_prunes_nothing(
    rebuilt: Rebuilt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, seeds = changed_copy(rebuilt, tmp_path, "1400人次")
    before = cache_listing(root / "var" / "cache")

    def failing(pairs: Any) -> None:
        raise OSError("rename refused")

    monkeypatch.setattr(b, "_swap_in", failing)
    with pytest.raises(OSError, match="rename refused"):
        b.build(seeds, root / "dist", root / "var" / "store", VOCAB, cache_dir=root / "var" / "cache")
    after = cache_listing(root / "var" / "cache")
    assert before < after  # the failed build's new entries are there; none was removed


def test_a_failing_rebuild_leaves_the_previous_store_and_dumps(
    rebuilt: Rebuilt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, seeds = changed_copy(rebuilt, tmp_path, "1300人次")
    before = files(root / "dist"), files(root / "var" / "store")
    write_tables = incremental.write_tables

    def failing(*args: Any, **kwargs: Any) -> Any:
        write_tables(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(incremental, "write_tables", failing)
    with pytest.raises(OSError, match="disk full"):
        b.build(seeds, root / "dist", root / "var" / "store", VOCAB, cache_dir=root / "var" / "cache")
    assert (files(root / "dist"), files(root / "var" / "store")) == before
    assert sorted(p.name for p in (root / "var").iterdir()) == ["cache", "store", "versions"]


def test_chunked_dumps_are_the_bytes_of_the_whole_dumps(rebuilt: Rebuilt, tmp_path: Path) -> None:
    """The chunked writer's plain files are those ``dumps.write_dumps`` makes of the whole graph; its
    gzip files read back to them; with every chunk cached, it writes the same bytes and makes nothing."""
    dist = rebuilt.cold_root / "dist"
    nt, nq = (dist / "plankg.nt").read_bytes(), (dist / "plankg.nq").read_bytes()
    named = nq[len(nt) :].splitlines(keepends=True)
    iris = spill.iris(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES))
    whole, cold, warm = tmp_path / "whole", tmp_path / "cold", tmp_path / "warm"
    for d in (whole, cold, warm):
        d.mkdir()
    dumps.write_dumps(list(ox.parse(nq, format=ox.RdfFormat.N_QUADS)), whole, VOCAB.prefixes())
    plan = str(VOCAB.thing("plan")) + "/"
    cache = tmp_path / "cache"
    for target in (cold, warm):
        counts = chunks.Counts()
        written, triples = chunks.write_corpus_dumps(
            target,
            VOCAB.prefixes(),
            nt.splitlines(keepends=True),
            iter(named),
            iris,
            plan,
            chunks.ChunkCache(cache, counts),
        )
        assert triples == nt.count(b"\n")
        assert [f.name for f in written] == [
            f"plankg.{e}{z}" for e in ("nt", "nq", "ttl", "jsonld") for z in ("", ".gz")
        ]
        for f in written:
            data = (target / f.name).read_bytes()
            plain = gzip.decompress(data) if f.gzip else data
            assert plain == (whole / f.name.removesuffix(".gz")).read_bytes(), f.name
        if target == warm:
            assert counts.made == 0 and counts.reused > 10
    assert files(cold) == files(warm)


def test_a_rebuild_s_tables_merge_the_previous_rows_as_they_are_read(
    rebuilt: Rebuilt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tables of a rebuild: the previous build's rows streamed from its files, the rows read again
    merged in, never a table's rows in a list (the divisions' are 1.1 MB at 100 plans); the same
    bytes. Here over the rebuilt store and its own tables, the changed plan's node read again."""
    bodies: list[tuple[str, type]] = []
    write = tables.write_table_files

    def spy(directory: Path, vocab: Any, made: Any) -> Any:
        def seen() -> Any:
            for t, body in made:
                bodies.append((t.name, type(body)))
                yield t, body

        return write(directory, vocab, seen())

    monkeypatch.setattr(tables, "write_table_files", spy)
    store = ox.Store.read_only(str(rebuilt.inc / "var" / "store"))
    counts = incremental.TableCounts()
    changed = {str(VOCAB.for_plan(rebuilt.slugs[BAILU]).plan())}
    made = incremental.write_tables(store, tmp_path, VOCAB, rebuilt.inc / "dist", changed, counts)
    assert made is not None and len(bodies) == len(tables.TABLES)
    assert all(kind is not list for _, kind in bodies), bodies
    assert counts.redone["plans"] == 1 and sum(counts.redone.values()) > 1
    for f in made:
        assert (tmp_path / f.name).read_bytes() == (rebuilt.inc / "dist" / f.name).read_bytes(), f.name
