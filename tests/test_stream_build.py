"""The build streams the corpus plan by plan (issue 8, point 5): at most one plan's quads held at a
time, the dumps written by merging the plans' sorted files (the same bytes as sorting the corpus in
memory), the same output whatever the number of worker processes, a worker's error named as in one
process, a failed build leaving the previous output and no staging files.

The corpus is tests/fixtures/corpus/ (four fictional plans; one implements another, so a citation is
resolved between plans)."""

from __future__ import annotations

import gzip
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from mapping import build as b
from mapping import changes, chunks, dumps, spill, tables
from mapping.errors import DocumentError
from mapping.vocab import Vocab

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus"
VOCAB = Vocab("http://127.0.0.1:8000/")
ID = "http://example.org/id/"


def quiet_build(seeds: Path, root: Path, **kwargs: Any) -> b.BuildResult:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        return b.build(seeds, root / "dist", root / "var" / "store", VOCAB, **kwargs)


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


class Live:
    """Counts the lists of a plan's quads alive at once (each made by the build's reader of a plan)."""

    def __init__(self) -> None:
        self.live = self.peak = self.made = 0

    def track(self, quads: list[ox.Quad]) -> list[ox.Quad]:
        counter = self

        class Tracked(list[ox.Quad]):
            def __del__(self) -> None:
                counter.live -= 1

        self.live += 1
        self.made += 1
        self.peak = max(self.peak, self.live)
        return Tracked(quads)


@dataclass(frozen=True)
class Builds:
    seeds: Path
    one: Path  # built in this process, the plans' quads tracked
    two: Path  # built by two worker processes
    live: Live
    result: b.BuildResult


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    root = tmp_path_factory.mktemp("stream")
    seeds = root / "seeds"
    shutil.copytree(CORPUS, seeds, ignore=shutil.ignore_patterns("malformed", "README.md"))
    live = Live()
    process_plan, from_nt = b.process_plan, b._from_nt

    def tracked_plan(*args: Any, **kwargs: Any) -> b.PlanOutput:
        output = process_plan(*args, **kwargs)
        return replace(output, quads=live.track(output.quads))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(b, "process_plan", tracked_plan)
        patch.setattr(b, "_from_nt", lambda data: live.track(from_nt(data)))
        result = quiet_build(seeds, root / "one", jobs=1, use_cache=False)
    quiet_build(seeds, root / "two", jobs=2, use_cache=False)
    yield Builds(seeds, root / "one", root / "two", live, result)


def test_the_build_holds_one_plan_at_a_time(builds: Builds) -> None:
    plans = len(builds.result.plans)
    assert plans == 4
    # Each plan's quads are made when it is read and read back when it is spilled: 2 lists a plan,
    # and at most two alive at once, whatever the number of plans (one plan's list can outlive its plan
    # until the garbage collector runs; in pytest it did once in 8). Before streaming, every plan's
    # quads lived until the dumps were written: the peak was the number of plans.
    assert builds.live.made == 2 * plans
    assert builds.live.peak <= 2 < plans
    assert builds.live.live == 0


def test_the_output_is_the_same_whatever_the_jobs(builds: Builds) -> None:
    one, two = files(builds.one / "dist"), files(builds.two / "dist")
    assert one == two
    assert len(one) > 40  # the corpus's dumps, each plan's, the tables, the description, the manifest
    assert builds.result.parsed == tuple(p.slug for p in builds.result.plans)


def test_the_staging_files_are_gone_after_a_build(builds: Builds) -> None:
    assert sorted(p.name for p in (builds.two / "var").iterdir()) == ["store", "versions"]


def test_a_worker_error_names_file_line_and_column(builds: Builds, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(builds.seeds, seeds)
    shutil.copy(CORPUS / "malformed" / "no-headings.txt", seeds / "no-headings.txt")
    shutil.copytree(builds.two, tmp_path / "out")
    before = files(tmp_path / "out" / "dist"), files(tmp_path / "out" / "var" / "store")
    messages = []
    for jobs in (1, 2):
        with pytest.raises(DocumentError) as caught:
            quiet_build(seeds, tmp_path / "out", jobs=jobs)
        messages.append(str(caught.value))
        assert caught.value.location.source == str(seeds / "no-headings.txt")
        assert (caught.value.location.line, caught.value.location.column) == (10, 5)
    assert messages[0] == messages[1]
    assert (
        messages[0] == f"{seeds / 'no-headings.txt'}:10:5: no heading (一、, (一), 1. or (1)) in the document"
    )
    # the previous store and dumps as they were (the good plans were cached on the way)
    assert (files(tmp_path / "out" / "dist"), files(tmp_path / "out" / "var" / "store")) == before
    assert sorted(p.name for p in (tmp_path / "out" / "var").iterdir()) == ["cache", "store", "versions"]


def test_a_build_failing_after_the_plans_are_spilled_leaves_everything_as_it_was(
    builds: Builds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(builds.two, tmp_path / "out")
    before = files(tmp_path / "out")

    def broken(*args: object) -> list[dumps.DumpFile]:
        raise OSError("disk full")

    monkeypatch.setattr(tables, "write_tables", broken)
    with pytest.raises(OSError, match="disk full"):
        quiet_build(builds.seeds, tmp_path / "out", jobs=2, use_cache=False)
    assert files(tmp_path / "out") == before
    assert sorted(p.name for p in (tmp_path / "out" / "var").iterdir()) == ["store", "versions"]


# --- the merge of sorted files ------------------------------------------------------------------------


def q(s: str, p: str, o: ox.NamedNode | ox.Literal) -> ox.Quad:
    return ox.Quad(ox.NamedNode(ID + s), ox.NamedNode(ID + p), o, ox.DefaultGraph())


# IRIs one of which is a prefix of another, characters below and above '>' and ' ', literals that are
# prefixes of others (with a language, a datatype, a subtag), escapes, text beyond the BMP.
PLANS = [
    [
        q("a", "p", ox.NamedNode(ID + "b")),
        q("a", "p", ox.Literal("abc")),
        q("a", "p", ox.Literal("abc", language="en")),
        q("a/x", "p", ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
        q("a-b", "p", ox.Literal('quote " and \\ and \n line')),
    ],
    [
        q("a", "p", ox.Literal("abc", language="en-us")),
        q("a", "p", ox.Literal("abc")),  # shared with the first plan: written once
        q("a!", "p", ox.Literal("𠀀 beyond the BMP")),
        q("ab", "p", ox.Literal("ab\tc")),
        q("a", "p0", ox.NamedNode(ID + "a")),
    ],
    [q("中", "p", ox.Literal("中文")), q("a", "p", ox.Literal("ab"))],
]


def spilled(tmp_path: Path) -> list[Path]:
    paths = []
    for i, quads in enumerate(PLANS):
        path = tmp_path / f"{i}.nt"
        spill.write_sorted(path, dumps.canonical_order(quads))
        paths.append(path)
    return paths


def test_merging_the_sorted_files_is_the_canonical_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = dumps.canonical_order([q("a", "p", ox.Literal("abd")), q("a", "p", ox.Literal("abc"))])
    expected = dumps.canonical_order([x for quads in PLANS for x in quads] + extra)
    for fan_in in (128, 2):  # all files at once, and in groups through intermediate files
        monkeypatch.setattr(spill, "FAN_IN", fan_in)
        lines = list(spill.merged(spilled(tmp_path), spill.nt_bytes(extra).splitlines(keepends=True)))
        assert b"".join(lines) == spill.nt_bytes(expected)
    assert len(lines) == len(expected) == 12


def test_the_corpus_dumps_from_files_are_the_dumps_of_the_sorted_corpus(tmp_path: Path) -> None:
    default = dumps.canonical_order([x for quads in PLANS for x in quads])
    graph = "http://example.org/id/graph/plan/a"
    named = [ox.Quad(x.subject, x.predicate, x.object, ox.NamedNode(graph)) for x in PLANS[0]]
    prefixes = {"id": ID, "xsd": "http://www.w3.org/2001/XMLSchema#"}
    (tmp_path / "whole").mkdir()
    (tmp_path / "merged").mkdir()
    whole = dumps.write_dumps(default + dumps.canonical_order(named), tmp_path / "whole", prefixes)
    paths = spilled(tmp_path)
    merged, triples = chunks.write_corpus_dumps(
        tmp_path / "merged",
        prefixes,
        spill.merged(paths),
        spill.in_graph(spill.read_lines(paths[0]), graph),
        spill.merged_iris([], spill.iris(default)),
        ID + "plan/",
        chunks.ChunkCache(None),
    )
    assert triples == len(default)
    assert sorted(f.name for f in whole) == sorted(f.name for f in merged)
    # the same bytes; the gzip files (written in chunks, mapping.chunks) read back to them
    written = files(tmp_path / "merged")
    assert {n: gzip.decompress(d) if n.endswith(".gz") else d for n, d in written.items()} == {
        n: gzip.decompress(d) if n.endswith(".gz") else d for n, d in files(tmp_path / "whole").items()
    }
    assert gzip.decompress((tmp_path / "merged" / "plankg.nq.gz").read_bytes()).count(b"\n") == 16


def test_the_change_set_from_streams_is_the_change_set_of_the_whole_dumps(tmp_path: Path) -> None:
    old = dumps.canonical_order(PLANS[0] + PLANS[1])
    new = dumps.canonical_order(PLANS[0][1:] + PLANS[1] + PLANS[2])
    for name, quads in (("old.nq", old), ("new.nq", new)):
        (tmp_path / name).write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    few_old, few_new = changes.touched_quads(tmp_path / "old.nq", tmp_path / "new.nq")
    assert {x.subject for x in few_old + few_new} == {ox.NamedNode(ID + s) for s in ("a", "中")}
    for name, (o, n) in (("whole", (old, new)), ("streamed", (few_old, few_new))):
        (tmp_path / name).mkdir()
        changes.write_change_set(tmp_path / name, VOCAB, "new", n, "old", o)
    assert files(tmp_path / "whole") == files(tmp_path / "streamed")
