"""The build's memory does not grow with the corpus where the growth is ours (issue 8, point 5), and
each stage's peak is reported (``mapping.memory``).

Structural checks, not measured ones: the tables are written as the store gives their rows (at most
one batch of rows held), and the dataset description is made a few plans at a time and merged from
sorted files (the graph the versions' description reads holds the catalogue's own statements, never
every plan's), with the same bytes however many plans are described at once. The corpus is
tests/fixtures/corpus/ (four fictional plans)."""

from __future__ import annotations

import csv
import gc
import hashlib
import inspect
import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import DCTERMS
from rich.console import Console

from bench.corpus import _STAGE
from mapping import build as b
from mapping import incremental, memory, spill, tables, versions
from mapping.vocab import DCAT, PROV, SPDX, VOID, Vocab
from tests.conftest import BuiltPlan
from tests.test_stream_build import files, quiet_build

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus"
VOCAB = Vocab("http://127.0.0.1:8000/")


def corpus(root: Path) -> Path:
    seeds = root / "seeds"
    shutil.copytree(CORPUS, seeds, ignore=shutil.ignore_patterns("malformed", "README.md"))
    return seeds


# --- the meter --------------------------------------------------------------------------------------


def test_a_stage_peak_is_its_own_not_the_process_s_so_far() -> None:
    with memory.measured() as big:
        block = b"x" * (96 << 20)  # written, so resident
        del block
    with memory.measured() as small:
        pass
    assert big.process is not None and small.process is not None
    assert big.process >= small.process + 64  # the reset dropped the first block's mark


def test_each_stage_reports_its_peak(tmp_path: Path) -> None:
    out = io.StringIO()
    result = quiet_build(
        corpus(tmp_path), tmp_path, progress=b.RichProgress(Console(file=out, width=40)), use_cache=False
    )
    assert set(result.stage_memory) == set(result.stage_seconds)
    assert all(p.process is not None and p.process > 10 for p in result.stage_memory.values())
    lines = {m.group(1): m for m in _STAGE.finditer(out.getvalue())}
    assert set(lines) == set(result.stage_seconds)
    # bench.corpus reads each stage's peak from its progress line, one line however narrow the console
    assert all(m.group(3) is not None and float(m.group(3)) > 10 for m in lines.values())


# --- the tables ---------------------------------------------------------------------------------------


def test_a_table_is_written_as_its_rows_come(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_ROWS", 2)
    path = tmp_path / "t.csv"
    body = [[f"http://example.org/{i}", f'值 "{i}",\n{i}'] for i in range(7)]
    seen: list[int] = []

    def rows() -> Any:
        for i, row in enumerate(body):
            seen.append(path.stat().st_size if path.exists() else 0)
            if i >= 3:  # two batches of two rows were asked for: the first is on disk
                assert seen[-1] > 0
            yield row

    size, sha256 = tables.write_csv(path, ["row", "value"], rows())
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([["row", "value"], *body])
    expected = buffer.getvalue().encode("utf-8")
    assert path.read_bytes() == expected
    assert size == len(expected)
    assert seen[0] == 0 and seen[3] > 0  # written while the rows were still coming
    assert sha256 == hashlib.sha256(expected).hexdigest()


def test_a_table_s_rows_are_read_one_at_a_time() -> None:
    table = next(t for t in tables.TABLES if t.name == "plans")
    assert inspect.isgenerator(tables.rows(ox.Store(), table, VOCAB))


# --- the description ----------------------------------------------------------------------------------


def test_the_description_is_made_one_plan_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = corpus(tmp_path)
    described: list[Graph] = []
    description = versions.description

    def spy(*args: Any, **kwargs: Any) -> Graph:
        described.append(Graph() + args[3])  # the graph the versions' description reads
        return description(*args, **kwargs)

    monkeypatch.setattr(versions, "description", spy)
    one = quiet_build(seeds, tmp_path / "one")
    assert len(one.described) == 4
    # Built again over a copy of the first build's cache and output: every plan's description is the
    # one kept in the cache (mapping.build._describe_plan), the same bytes.
    shutil.copytree(tmp_path / "one", tmp_path / "all")
    again = quiet_build(seeds, tmp_path / "all")
    assert again.described == ()
    assert files(tmp_path / "one" / "dist") == files(tmp_path / "all" / "dist")

    plans = [VOCAB.thing("dataset", "plan", s.slug) for s in one.plans]
    assert len(plans) == 4
    catalogue = described[0]
    # What is said of each plan (its title, its distributions, its graph) was spilled with its plan,
    # and the catalogue's statements naming it with it too: none is in the graph the versions'
    # description reads (before: the catalogue named every plan's dataset there).
    assert set(catalogue.objects(VOCAB.thing("dataset"), None)).isdisjoint(plans)
    subjects = {str(s) for s in catalogue.subjects()}
    assert not any(s.startswith(str(VOCAB.thing("dataset", "plan"))) for s in subjects)
    assert not any(s.startswith(str(VOCAB.thing("dataset", "dump", "plan-"))) for s in subjects)
    # …and is in the description written: void.ttl, and the store's description graph.
    void = Graph().parse(tmp_path / "one" / "dist" / "void.ttl", format="turtle")
    assert [str(void.value(plan, DCTERMS.identifier)) for plan in plans] == [s.slug for s in one.plans]
    assert set(void.objects(VOCAB.thing("dataset"), DCAT.dataset)) >= set(plans)
    current = versions.version_node(VOCAB, one.build_id)
    assert set(void.objects(current, DCAT.dataset)) >= set(plans)  # the current version inherits them
    store = ox.Store.read_only(str(tmp_path / "one" / "var" / "store"))
    graph = ox.NamedNode(b.description_graph(VOCAB))
    stored = {
        (str(q.subject)[1:-1], q.predicate.value) for q in store.quads_for_pattern(None, None, None, graph)
    }
    assert stored == {(str(s), str(p)) for s, p, _ in void}


def test_no_statement_per_plan_is_held_for_the_versions_description(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statements that are many per plan (the catalogue's naming each plan's dataset, and what
    each version says of every plan's seed: its file name, its checksum) are spilled in sorted runs
    as they are made (``spill.Runs``) and merged with the rest of the description: the graph the
    versions' description reads and the one it gives back hold none of them, on a cold build and on a
    rebuild with a kept version. Before: every plan's, in one rdflib graph, until the description was
    written (~25 KB a plan at 300 plans, the growth of the stage's Python allocations). The output is
    the same whether the runs hold one statement or many."""
    seeds = corpus(tmp_path)
    held: list[Graph] = []
    description = versions.description

    def spy(*args: Any, **kwargs: Any) -> Graph:
        made = description(*args, **kwargs)
        held.extend([Graph() + args[3], Graph() + made])
        return made

    monkeypatch.setattr(versions, "description", spy)
    first = quiet_build(seeds, tmp_path / "one", use_cache=False)
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    changed = seeds / "bailu-county-commerce-2023-2025.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("结合", "紧密结合", 1), encoding="utf-8")
    second = quiet_build(seeds, tmp_path / "one", use_cache=False)
    assert len(held) == 4
    plan_prefixes = (str(VOCAB.thing("dataset", "plan")), str(VOCAB.thing("plan")))
    for graph in held:
        for s, _, o in graph:
            assert not str(s).startswith(plan_prefixes) and not str(o).startswith(plan_prefixes), (s, o)
            assert "/seed/" not in str(s) and "/seed/" not in str(o), (s, o)
    # …and are in the description written: both versions' seeds, every plan's dataset.
    void = Graph().parse(tmp_path / "one" / "dist" / "void.ttl", format="turtle")
    sources = {s.source_name for s in second.plans}
    for build in (first, second):
        version = versions.version_node(VOCAB, build.build_id)
        seeds_of = {s for s in void.objects(version, PROV.wasDerivedFrom) if "/seed/" in str(s)}
        assert {str(void.value(seed, DCTERMS.title)) for seed in seeds_of} == sources
        assert all(void.value(seed, SPDX.checksum) is not None for seed in seeds_of)
    assert len(set(void.objects(VOCAB.thing("dataset"), DCAT.dataset))) >= 4
    # One statement a run: the same bytes as the runs of the default size.
    monkeypatch.setattr(spill, "RUN", 1)
    again = quiet_build(seeds, tmp_path / "two", use_cache=False)
    assert again.build_id == second.build_id
    assert files(tmp_path / "two" / "dist") == files(tmp_path / "one" / "dist")


def test_a_rebuild_describes_each_plan_once(tmp_path: Path) -> None:
    """The kept versions' description stops at the nodes the current build describes, the plans'
    too (they are described apart, not in the graph the versions' description reads): a plan whose
    text changed has one size and one checksum per file, the new ones, not the previous build's too."""
    seeds = corpus(tmp_path)
    first = quiet_build(seeds, tmp_path)
    changed = seeds / "bailu-county-commerce-2023-2025.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("结合", "紧密结合", 1), encoding="utf-8")
    second = quiet_build(seeds, tmp_path)
    assert second.build_id != first.build_id
    void = Graph().parse(tmp_path / "dist" / "void.ttl", format="turtle")
    sizes = [s for s in void.subjects(DCAT.byteSize, None)]
    assert len(sizes) > 4 * 8  # every plan's dumps, the corpus's
    assert all(len(list(void.objects(s, DCAT.byteSize))) == 1 for s in sizes)
    assert all(len(list(void.objects(s, VOID.triples))) == 1 for s in void.subjects(VOID.triples, None))


def test_a_kept_version_s_description_is_read_only_where_it_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept version's archived description is read for what the versions' description may take of
    it (the dataset, the dump's twin, the nodes the current description lacks), not whole: the same
    output as reading it whole, and none of the statements about the plans still described."""
    seeds = corpus(tmp_path)
    quiet_build(seeds, tmp_path / "a")
    changed = seeds / "bailu-county-commerce-2023-2025.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("结合", "紧密结合", 1), encoding="utf-8")
    quiet_build(seeds, tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    changed.write_text(changed.read_text(encoding="utf-8").replace("紧密结合", "结合", 1), encoding="utf-8")
    other = seeds / "donghai-industry-green-transition-2024-2026.txt"
    other.write_text(other.read_text(encoding="utf-8").replace("结合", "紧密结合", 1), encoding="utf-8")
    archived = versions._archived
    held: list[Graph] = []

    def whole(directory: Path, wanted: Any = None) -> Any:
        return archived(directory)

    def recorded(directory: Path, wanted: Any) -> Any:
        found = archived(directory, wanted)
        held.append(found[0])
        return found

    monkeypatch.setattr(versions, "_archived", whole)
    quiet_build(seeds, tmp_path / "a")
    monkeypatch.setattr(versions, "_archived", recorded)
    result = quiet_build(seeds, tmp_path / "b")
    assert files(tmp_path / "a" / "dist") == files(tmp_path / "b" / "dist")
    assert len(held) == 2  # the two earlier builds are kept versions
    for own in held:
        subjects = {str(s) for s in own.subjects()}
        assert str(VOCAB.thing("dataset")) in subjects
        for plan in result.plans:  # described by the current build: not read from the archive
            assert str(VOCAB.thing("dataset", "plan", plan.slug)) not in subjects


# --- what the build holds of each plan ------------------------------------------------------------------


class Census:
    """A progress that counts, at the start and the end of each stage, the plans' summaries, records
    and facts alive in the process (the garbage collector's objects of those types). Those alive
    before the census began (another test's, in the same pytest process) are not counted: they are
    held here, so that no object of the build can take the identity of one of them."""

    KINDS = (b.PlanSummary, b.PlanRecord, b.PlanFacts)

    def __init__(self) -> None:
        self.counts: dict[str, list[dict[str, int]]] = {}
        gc.collect()
        self.earlier = [thing for thing in gc.get_objects() if isinstance(thing, self.KINDS)]
        self.earlier_ids = {id(thing) for thing in self.earlier}

    def count(self) -> dict[str, int]:
        gc.collect()
        found = dict.fromkeys((k.__name__ for k in self.KINDS), 0)
        for thing in gc.get_objects():
            if isinstance(thing, self.KINDS) and id(thing) not in self.earlier_ids:
                found[type(thing).__name__] += 1
        return found

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.counts[name] = [self.count()]
        yield
        self.counts[name].append(self.count())

    def warn(self, text: str) -> None:
        pass


def test_the_corpus_stages_hold_no_plan_s_summary_records_or_facts(tmp_path: Path) -> None:
    """From the citations on, the build holds of each plan its ``PlanKept`` (where its files are, its
    size): its summary, dump files and facts are read back one plan at a time where a stage needs
    them. So the stages where the build's peak is (the store's load, the tables and the description)
    hold none of them, however many plans there are; the first plan's summary is the one kept (the
    build record's "source"). Before: every plan's summary, record and facts, to the end."""
    census = Census()
    result = quiet_build(corpus(tmp_path), tmp_path, progress=census, use_cache=False)
    assert len(result.plans) == 4
    read = next(name for name in census.counts if name.startswith("parse, map and validate"))
    assert census.counts[read][1]["PlanRecord"] == 4  # the read stage's records: what the test counts
    corpus_stages = [
        "merge linksets",
        "write dumps",
        next(name for name in census.counts if name.startswith("load the store")),
        "write tables and the description",
    ]
    for name in corpus_stages:
        for counted in census.counts[name]:
            assert counted == {"PlanSummary": 1, "PlanRecord": 0, "PlanFacts": 0}, (name, counted)
    assert census.counts["resolve citations between the plans"][1]["PlanFacts"] == 0
    # The result still tells every plan, read back at the end (after the store is closed).
    assert census.counts["swap in"][1]["PlanSummary"] == 1 + 4


def test_a_table_is_asked_of_the_store_a_few_rows_at_a_time(
    built_plan: BuiltPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table's query grouped and sorted every row of the table in the store's memory at once (the
    divisions with their texts: memory that grew with the corpus in the stage of the build's peak).
    Now its rows' IRIs are read from the store's index, sorted a run at a time (runs spilled and
    merged), and the store is asked for ``_KEYS`` rows at a time: the same rows in the same order."""
    store = ox.Store.read_only(str(built_plan.settings.store_dir))
    asked: list[int] = []
    text_of = tables.query

    def recorded(table: tables.Table, vocab: Vocab, only: Any = ()) -> str:
        asked.append(len(only))
        return text_of(table, vocab, only)

    monkeypatch.setattr(tables, "query", recorded)
    monkeypatch.setattr(tables, "_KEYS", 3)
    monkeypatch.setattr(tables, "_RUN", 4)  # row IRIs sorted 4 at a time: runs spilled and merged
    large = 0
    for table in tables.TABLES:
        whole = list(tables._rows_of(store, table, VOCAB, ()))  # one query, no VALUES: the whole table
        asked.clear()
        assert list(tables.rows(store, table, VOCAB, work=tmp_path)) == whole, table.name
        assert all(1 <= n <= 3 for n in asked), (table.name, asked)
        assert len(asked) == -(-len(whole) // 3)
        large += len(whole) > 4
    assert large >= 4  # divisions, statistics, targets, mentions… each sorted in spilled runs
    assert not any(tmp_path.iterdir())  # the runs' files are gone
    typed = store.quads_for_pattern(
        None, tables._TYPE, ox.NamedNode(str(VOCAB.pk) + "Target"), ox.DefaultGraph()
    )
    targets = sorted(q.subject.value for q in typed if isinstance(q.subject, ox.NamedNode))
    assert list(tables.keys(store, next(t for t in tables.TABLES if t.name == "targets"), VOCAB)) == targets


def test_the_tables_read_a_compacted_store_and_the_description_is_loaded_in_small_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is compacted after its load, before the tables read it whole (the store keeps each
    of its files' index and filter in memory once read, and the bulk loader leaves a set of files per
    batch of 20,000 quads); the description (~150 quads a plan) is loaded ``_DESCRIPTION_BATCH``
    quads at a time, not 20,000 at once. Before: the tables read the loaded files as they were, and
    the description went to the bulk loader in one batch up to 133 plans. The output is the same."""
    events: list[str] = []
    load, compact, write_tables, open_store = b._load, b._compact, tables.write_tables, b._open_store

    def loading(store: ox.Store, quads: Any, batch_size: int = b._LOAD_BATCH) -> int:
        given = load(store, quads, batch_size)
        events.append(f"load {given} by {batch_size}")
        return given

    def compacting(store: ox.Store) -> None:
        events.append("compact")
        compact(store)

    def tabling(*args: Any, **kwargs: Any) -> Any:
        events.append("tables")
        return write_tables(*args, **kwargs)

    def opening(path: Path) -> ox.Store:
        events.append("open")
        return open_store(path)

    monkeypatch.setattr(b, "_load", loading)
    monkeypatch.setattr(b, "_compact", compacting)
    monkeypatch.setattr(tables, "write_tables", tabling)
    monkeypatch.setattr(b, "_open_store", opening)
    monkeypatch.setattr(b, "_DESCRIPTION_BATCH", 50)
    seeds = corpus(tmp_path)
    result = quiet_build(seeds, tmp_path / "one")
    # The store is opened anew before each stage that reads it (see the next test).
    assert [e.split(" ")[0] for e in events] == [
        *("open", "load", "compact"),
        "tables",  # opens the store itself, no sooner:
        *["open"] * len(tables.TABLES),  # each table from the store opened anew
        *("open", "load", "compact"),
        "open",
    ]
    assert events[1] == f"load {result.quads} by {b._LOAD_BATCH}"
    described = events[5 + len(tables.TABLES)]
    assert described.endswith(" by 50") and int(described.split(" ")[1]) > 50  # several batches
    monkeypatch.undo()
    assert files(quiet_build(seeds, tmp_path / "two").dist_dir) == files(result.dist_dir)


class _Graphs:
    """A stand-in for the checkpoint store: an in-memory store (literals held in canonical form, as
    the checkpoint holds them) that records what was asked of it."""

    def __init__(self, quads: set[ox.Quad]) -> None:
        self.store = ox.Store()
        self.store.extend(quads)
        self.events: list[str] = []

    def remove(self, quad: ox.Quad) -> None:
        self.store.remove(quad)
        self.events.append("remove")

    def flush(self) -> None:
        self.events.append("flush")

    def remove_graph(self, graph: ox.NamedNode) -> None:
        held = sum(1 for _ in self.store.quads_for_pattern(None, None, None, graph))
        self.events.append(f"remove_graph holding {held}")
        self.store.remove_graph(graph)


def test_a_rebuild_removes_the_previous_description_as_its_file_lists_it(
    built_plan: BuiltPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild's checkpoint dropped the previous description graph with ``remove_graph``: one
    transaction that reads the graph from the store and holds every deletion until it commits (+27
    MiB at 100 plans, more at the 1,000-plan rebuild's peak). Now the quads the previous
    ``void.ttl`` lists are removed one by one as it is parsed, the store flushed every
    ``_REMOVE_FLUSH``, and ``remove_graph`` finds an empty graph (it drops the graph's name)."""
    store = ox.Store.read_only(str(built_plan.settings.store_dir))
    graph = ox.NamedNode(b.description_graph(VOCAB))
    every = set(store)
    described = {q for q in every if q.graph_name == graph}
    assert len(described) > 100
    fake = _Graphs(every)
    monkeypatch.setattr(incremental, "_REMOVE_FLUSH", 40)
    listed = incremental.remove_description(cast(ox.Store, fake), built_plan.dist / "void.ttl", graph.value)
    assert listed == len(described)
    assert set(fake.store) == every - described
    assert fake.events[-1] == "remove_graph holding 0"
    assert fake.events.count("flush") == len(described) // 40
    assert fake.events.count("remove") == len(described)
    # a file that does not list the graph whole: the rest goes with the graph
    fake = _Graphs(every)
    assert (
        incremental.remove_description(cast(ox.Store, fake), built_plan.dist / "missing.ttl", graph.value)
        == 0
    )
    assert fake.events == [f"remove_graph holding {len(described)}"] and set(fake.store) == every - described


def test_the_store_is_opened_anew_between_the_stages_that_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build's store kept what each stage made it hold while the next ran: the compaction's (or a
    rebuild's update's) buffers under the tables, the blocks and file indexes the tables read under
    the description's load and compaction, all of it under the closing count, which reads every quad
    (at 300 plans the rebuild's stage of the tables and the description went +30 MiB over the
    updated store). Now the store is closed and opened anew before the tables, before the
    description's load and before the count: in a cold build and in a rebuild, and never two at once
    (Oxigraph refuses a second open of a store's directory in one process)."""
    events: list[str] = []
    open_store, updated, write_incremental = (
        b._open_store,
        incremental.updated_store,
        incremental.write_tables,
    )

    def opening(path: Path) -> ox.Store:
        events.append("open")
        return open_store(path)

    def updating(*args: Any, **kwargs: Any) -> ox.Store:
        events.append("update")
        return updated(*args, **kwargs)

    def tabling(*args: Any, **kwargs: Any) -> Any:
        events.append("tables")
        return write_incremental(*args, **kwargs)

    monkeypatch.setattr(b, "_open_store", opening)
    monkeypatch.setattr(incremental, "updated_store", updating)
    monkeypatch.setattr(incremental, "write_tables", tabling)
    seeds = corpus(tmp_path)
    quiet_build(seeds, tmp_path / "out")
    assert events == ["open"] * (3 + len(tables.TABLES))  # the load, each table, the description, the count
    events.clear()
    bailu = seeds / "bailu-county-commerce-2023-2025.txt"
    text = bailu.read_text(encoding="utf-8")
    assert "1000人次" in text
    bailu.write_text(text.replace("1000人次", "1200人次", 1), encoding="utf-8")
    rebuilt = quiet_build(seeds, tmp_path / "out")
    assert rebuilt.store_delta is not None  # the previous store updated, not loaded whole
    assert events == ["update", "open", "tables", "open", "open"]


def test_a_store_that_lost_quads_fails_the_build_and_is_closed(tmp_path: Path) -> None:
    store = ox.Store(str(tmp_path / "store"))
    store.extend([ox.Quad(ox.NamedNode("http://example.org/s"), tables._TYPE, ox.Literal("1.0"))])
    b._close_store(store)
    del store
    b._check_store(tmp_path / "store", 1)
    with pytest.raises(b.BuildError, match="holds 1 quads, not 2"):
        b._check_store(tmp_path / "store", 2)
    assert len(ox.Store(str(tmp_path / "store"))) == 1  # closed (a second open in one process fails)


def test_each_table_can_be_read_from_the_store_opened_anew(built_plan: BuiltPlan, tmp_path: Path) -> None:
    """Given a function that opens the store, ``tables.write_tables`` reads each table from the store
    opened anew and closes it before the next (what one table's reading made the store hold is not held
    under the next): the same files as from one open store. A store still open when the next table
    opens it would fail that open (Oxigraph locks a store's directory against a second open)."""
    shutil.copytree(built_plan.settings.store_dir, tmp_path / "store")
    opened: list[int] = []

    def opener() -> ox.Store:
        opened.append(1)
        return ox.Store(str(tmp_path / "store"))

    (tmp_path / "each").mkdir()
    (tmp_path / "one").mkdir()
    each = tables.write_tables(opener, tmp_path / "each", VOCAB)
    assert len(opened) == len(tables.TABLES)
    one = tables.write_tables(ox.Store(str(tmp_path / "store")), tmp_path / "one", VOCAB)
    assert each == one
    assert files(tmp_path / "each") == files(tmp_path / "one")
