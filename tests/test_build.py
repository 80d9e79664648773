"""mapping.build: the pipeline's output, determinism, atomicity and staleness.

The graph and SHACL stages are replaced by small stand-ins (a line-per-task toy document and a real
pyshacl run with two toy shapes), so these tests exercise the build itself, not the plan mapping.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rich.console import Console

from mapping import build as b
from mapping.changes import CHANGE_FILES
from mapping.errors import DocumentError, Location, ValidationFailed
from mapping.parser import parse_plan
from mapping.tables import TABLES
from mapping.vocab import DCAT, VOID, Vocab

REPO = Path(__file__).resolve().parent.parent
SH = Namespace("http://www.w3.org/ns/shacl#")
VOCAB = Vocab("http://example.org/plan/")
PLAN = VOCAB.for_plan("toy")  # the toy plan's slug, set in its metadata file (plan.plan.toml)

GOOD = "title: 测试计划\ntask 1: 推进绿色发展\ntask 2: 建设低碳城市，这一条标题写得特别长以致触发警告\n"
SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix pk: <http://example.org/plan/def/> .
pk:TaskShape a sh:NodeShape ; sh:targetClass pk:Task ;
  sh:property [ sh:path rdfs:label ; sh:minCount 1 ; sh:minLength 1 ] ;
  sh:property [ sh:path rdfs:label ; sh:maxLength 12 ; sh:severity sh:Warning ] .
"""


def toy_graph(raw: str, source_name: str, vocab: Vocab) -> Graph:
    """``title: …`` and ``task N: label`` lines; anything else is a DocumentError at its column."""
    g = Graph()
    pk = vocab.pk
    offset = 0
    for line in raw.splitlines(keepends=True):
        if m := re.fullmatch(r"title: (.*)\n?", line):
            g.add((vocab.plan(), pk.title, Literal(m[1], lang="zh")))
        elif m := re.fullmatch(r"task (\d+): (.*)\n?", line):
            task = vocab.task(int(m[1]))
            g.add((task, RDF.type, pk.Task))
            g.add((task, pk.position, Literal(int(m[1]))))
            if m[2]:
                g.add((task, RDFS.label, Literal(m[2], lang="zh")))
        elif line.strip():
            column = len(line) - len(line.lstrip("task ")) if line.startswith("task ") else 0
            raise DocumentError("expected `task N: …`", Location.at(source_name, raw, offset + column))
        offset += len(line)
    return g


@dataclass
class ToyOutcome:
    conforms: bool
    violations: int
    warnings: int
    report_text: str
    report_graph: Graph


def toy_validate(graph: Graph, vocab: Vocab, ontology_dir: Path) -> ToyOutcome:
    shapes = Graph().parse(ontology_dir / "shapes.ttl", format="turtle")
    conforms, report, text = pyshacl.validate(graph, shacl_graph=shapes, allow_warnings=True)
    severities = list(report.objects(None, SH.resultSeverity))
    return ToyOutcome(
        bool(conforms), severities.count(SH.Violation), severities.count(SH.Warning), str(text), report
    )


@dataclass
class Dirs:
    seeds: Path
    dist: Path
    store: Path
    ontology: Path

    def write_seed(self, text: str | bytes, name: str = "plan.txt") -> Path:
        path = self.seeds / name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return path


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    d = Dirs(tmp_path / "seeds", tmp_path / "dist", tmp_path / "var" / "store", tmp_path / "ontology")
    d.seeds.mkdir()
    d.ontology.mkdir()
    (d.ontology / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    d.write_seed(GOOD)
    (d.seeds / "plan.plan.toml").write_text('slug = "toy"\n', encoding="utf-8")
    return d


def run_build(d: Dirs, **kwargs: object) -> b.BuildResult:
    options: dict[str, object] = {
        "make_graph": toy_graph,
        "validator": toy_validate,
        "ontology_dir": d.ontology,
    }
    options.update(kwargs)
    return b.build(d.seeds, d.dist, d.store, VOCAB, **options)  # type: ignore[arg-type]


def snapshot(*roots: Path) -> dict[str, bytes]:
    """Every file under the roots (relative path → bytes), and the names next to them."""
    files: dict[str, bytes] = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                files[str(p.relative_to(root.parent))] = p.read_bytes()
        files[f"listing of {root.parent}"] = "\n".join(sorted(x.name for x in root.parent.iterdir())).encode()
    return files


def count(store: ox.Store, query: str) -> int:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    value = next(iter(solutions))[0]
    assert isinstance(value, ox.Literal)
    return int(value.value)


# --- output --------------------------------------------------------------------------------------------


def test_build_writes_dumps_manifest_and_store(dirs: Dirs) -> None:
    result = run_build(dirs)
    assert sorted(p.name for p in dirs.dist.iterdir()) == sorted(
        [
            f"{stem}.{e}{z}"
            for stem in ("plankg", "plan-toy")
            for e in ("ttl", "nt", "nq", "jsonld")
            for z in ("", ".gz")
        ]
        + ["SHA256SUMS", "manifest.json", "void.ttl", "csv-metadata.json"]
        + [t.file_name for t in TABLES]
        + list(CHANGE_FILES)
    )
    manifest = json.loads((dirs.dist / "manifest.json").read_text(encoding="utf-8"))
    raw = (dirs.seeds / "plan.txt").read_bytes()
    assert manifest["source"] == {
        "name": "plan.txt",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw),
    }
    assert manifest["base"] == VOCAB.base
    assert manifest["build_id"] == result.build_id
    assert manifest["triples"] == result.triples == len(toy_graph(GOOD, "plan.txt", VOCAB)) == 7
    assert manifest["validation"] == {"conforms": True, "violations": 0, "warnings": 1}
    info = b.read_build_info(dirs.store)
    assert info is not None
    assert {k: v for k, v in manifest.items() if k != "files"} == info
    assert set(result.stage_seconds) >= {
        "read seeds",
        "parse, map and validate 1 plan(s)",
        "write dumps",
        "swap in",
    }


def test_store_holds_the_dump_and_the_queryable_validation_report(dirs: Dirs) -> None:
    result = run_build(dirs)
    nt_lines = (dirs.dist / "plankg.nt").read_text(encoding="utf-8").splitlines()
    nq_lines = (dirs.dist / "plankg.nq").read_text(encoding="utf-8").splitlines()
    store = ox.Store.read_only(str(dirs.store))
    assert count(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }") == len(nt_lines) == result.triples
    everything_but_the_description = f"""SELECT (COUNT(*) AS ?n) {{
        {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{b.description_graph(VOCAB)}>) }} }}"""
    assert count(store, everything_but_the_description) == len(nq_lines)
    warnings = f"""PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT (COUNT(*) AS ?n) {{ GRAPH <{b.validation_graph(VOCAB)}> {{
            ?r sh:resultSeverity sh:Warning ; sh:focusNode <{PLAN.task(2)}> }} }}"""
    assert count(store, warnings) == 1
    described = {q for q in store if q.graph_name == ox.NamedNode(b.description_graph(VOCAB))}
    canonical = ox.Store()  # Oxigraph canonicalises literals; compare what it makes of the dump
    canonical.load(path=str(dirs.dist / "plankg.nq"), format=ox.RdfFormat.N_QUADS)
    assert set(canonical) == set(store) - described
    canonical_description = ox.Store()
    canonical_description.load(path=str(dirs.dist / "void.ttl"), format=ox.RdfFormat.TURTLE)
    assert {q.triple for q in described} == {q.triple for q in canonical_description}


ONTOLOGY = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix pk: <def/> .
pk:Task a owl:Class ; rdfs:label "任务"@zh, "Task"@en .
"""


def test_the_ontology_is_published_in_the_default_graph_and_the_shapes_are_not(dirs: Dirs) -> None:
    (dirs.ontology / "vocabulary.ttl").write_text(ONTOLOGY, encoding="utf-8")
    result = run_build(dirs)
    term = f"<{VOCAB.pk.Task}> <{RDFS.label}> "
    nt = (dirs.dist / "plankg.nt").read_text(encoding="utf-8")
    assert f'{term}"Task"@en .' in nt.splitlines()  # resolved against the base
    assert result.triples == len(toy_graph(GOOD, "plan.txt", VOCAB)) + 3
    store = ox.Store.read_only(str(dirs.store))
    assert count(store, f"SELECT (COUNT(*) AS ?n) {{ <{VOCAB.pk.Task}> ?p ?o }}") == 3
    assert "TaskShape" not in nt and "TaskShape" not in (dirs.dist / "plankg.nq").read_text(encoding="utf-8")


def test_the_dataset_description_lists_every_dump_with_size_and_hash(dirs: Dirs) -> None:
    result = run_build(dirs)
    g = Graph().parse(dirs.dist / "void.ttl", format="turtle")
    dcat, void, spdx = (Namespace(n) for n in (DCAT, VOID, "http://spdx.org/rdf/terms#"))
    dataset = VOCAB.thing("dataset")
    assert int(str(g.value(dataset, void.triples))) == result.triples
    assert str(g.value(dataset, dcat.version)) == result.build_id
    assert g.value(dataset, void.sparqlEndpoint) == URIRef(VOCAB.base + "sparql")
    distributions = list(g.objects(dataset, dcat.distribution))
    # the corpus dumps, its tables and their metadata; the plan's own dumps are its dataset's
    assert len(distributions) == 8 + len(TABLES) + 1
    assert len(result.files) == 8 + len(TABLES) + 1 + 8
    for dist in distributions:
        url = str(g.value(dist, dcat.downloadURL))
        assert url.startswith((VOCAB.base + "dumps/plankg", VOCAB.base + "dumps/csv-metadata.json"))
        data = (dirs.dist / url.rsplit("/", 1)[1]).read_bytes()
        assert int(str(g.value(dist, dcat.byteSize))) == len(data)
        checksum = g.value(g.value(dist, spdx.checksum), spdx.checksumValue)
        assert str(checksum) == hashlib.sha256(data).hexdigest()
    sums = (dirs.dist / "SHA256SUMS").read_text(encoding="utf-8")
    assert hashlib.sha256((dirs.dist / "void.ttl").read_bytes()).hexdigest() + "  void.ttl\n" in sums


def test_warnings_are_reported_to_the_progress(dirs: Dirs) -> None:
    out = io.StringIO()
    run_build(dirs, progress=b.RichProgress(Console(file=out, width=200)))
    text = out.getvalue()
    assert "✓ read seeds" in text
    assert "✓ swap in" in text
    assert "SHACL warnings" in text
    assert str(PLAN.task(2)) in text


# --- determinism ---------------------------------------------------------------------------------------


def test_two_builds_give_byte_identical_output(dirs: Dirs, tmp_path: Path) -> None:
    first = run_build(dirs)
    before = snapshot(dirs.dist) | {"build": (dirs.store / b.BUILD_INFO_FILE).read_bytes()}
    other = Dirs(dirs.seeds, tmp_path / "dist2", tmp_path / "var2" / "store", dirs.ontology)
    second = run_build(other)
    after = snapshot(other.dist) | {"build": (other.store / b.BUILD_INFO_FILE).read_bytes()}
    assert {k.replace("dist2", "dist"): v for k, v in after.items() if "listing" not in k} == {
        k: v for k, v in before.items() if "listing" not in k
    }
    assert first.build_id == second.build_id


BUILD_IN_SUBPROCESS = """
import sys
from pathlib import Path
from tests.test_build import Dirs, run_build
root = Path(sys.argv[1])
print(run_build(Dirs(root / "seeds", root / sys.argv[2], root / sys.argv[3], root / "ontology")).build_id)
"""


def test_builds_in_processes_with_different_hash_seeds_agree(dirs: Dirs) -> None:
    root = dirs.seeds.parent
    for n, seed in enumerate(("1", "2")):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        args = [sys.executable, "-c", BUILD_IN_SUBPROCESS, str(root), f"d{n}", f"s{n}"]
        subprocess.run(args, check=True, cwd=REPO, env=env, capture_output=True)
    for f in sorted((root / "d0").iterdir()):
        assert f.read_bytes() == (root / "d1" / f.name).read_bytes(), f.name


def test_another_base_changes_the_output(dirs: Dirs) -> None:
    first = run_build(dirs)
    second = b.build(
        dirs.seeds, dirs.dist, dirs.store, Vocab("http://other.example/"), make_graph=toy_graph,
        validator=toy_validate, ontology_dir=dirs.ontology,
    )  # fmt: skip
    assert first.build_id != second.build_id
    assert "http://other.example/id/plan/toy/task/1" in (dirs.dist / "plankg.nt").read_text(encoding="utf-8")


# --- failures and atomicity ----------------------------------------------------------------------------


def failing_validator(graph: Graph, vocab: Vocab, ontology_dir: Path) -> ToyOutcome:
    outcome = toy_validate(graph, vocab, ontology_dir)
    return ToyOutcome(
        False, 1, outcome.warnings, "Focus node <x> violates sh:MinCountConstraintComponent", Graph()
    )


def unserialisable_graph(raw: str, source_name: str, vocab: Vocab) -> Graph:
    g = toy_graph(raw, source_name, vocab)
    g.add((Literal("a literal cannot be a subject"), RDFS.label, Literal("x")))
    return g


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("violation", ValidationFailed),
        ("parse error", DocumentError),
        ("serialisation error", TypeError),
        ("no seed", b.BuildError),
    ],
)
def test_a_failed_build_leaves_the_previous_output_untouched(dirs: Dirs, case: str, error: type) -> None:
    run_build(dirs)
    before = snapshot(dirs.dist, dirs.store)
    options: dict[str, object] = {}
    if case == "violation":
        options["validator"] = failing_validator
    elif case == "parse error":
        dirs.write_seed(GOOD + "tusk 3: typo\n")
    elif case == "serialisation error":
        options["make_graph"] = unserialisable_graph
    else:
        (dirs.seeds / "plan.txt").unlink()
    with pytest.raises(error):
        run_build(dirs, **options)
    assert snapshot(dirs.dist, dirs.store) == before
    assert leftovers(dirs.seeds.parent) == []


def leftovers(root: Path) -> list[str]:
    return [str(p) for p in root.rglob(".*") if ".new-" in p.name or ".old-" in p.name]


@pytest.mark.parametrize("stage", ["validator", "make_graph"])
def test_a_failed_first_build_creates_nothing(dirs: Dirs, stage: str) -> None:
    failing = {"validator": failing_validator, "make_graph": unserialisable_graph}[stage]
    with pytest.raises((ValidationFailed, TypeError)):
        run_build(dirs, **{stage: failing})
    assert not dirs.dist.exists()
    assert not dirs.store.exists()
    assert leftovers(dirs.seeds.parent) == []


def test_a_real_violation_fails_the_build_naming_node_and_rule(dirs: Dirs) -> None:
    dirs.write_seed(GOOD + "task 3: \n")
    with pytest.raises(ValidationFailed) as caught:
        run_build(dirs)
    assert caught.value.violations == 1
    assert str(PLAN.task(3)) in caught.value.report
    assert "MinCountConstraintComponent" in caught.value.report


def test_the_second_swap_failing_rolls_back_the_first(tmp_path: Path) -> None:
    for name in ("old_a", "new_a", "old_b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f").write_text(name)
    with pytest.raises(FileNotFoundError):
        b._swap_in([(tmp_path / "new_a", tmp_path / "old_a"), (tmp_path / "missing", tmp_path / "old_b")])
    assert (tmp_path / "old_a" / "f").read_text() == "old_a"
    assert (tmp_path / "old_b" / "f").read_text() == "old_b"
    assert (tmp_path / "new_a" / "f").read_text() == "new_a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new_a", "old_a", "old_b"]


def test_a_parse_error_names_the_seed_file_line_and_column(dirs: Dirs) -> None:
    path = dirs.write_seed(GOOD + "task x: no number\n")
    with pytest.raises(DocumentError) as caught:
        run_build(dirs)
    assert str(caught.value) == f"{path}:4:6: expected `task N: …`"


def test_a_file_that_is_not_utf8_is_a_document_error_with_its_place(dirs: Dirs) -> None:
    path = dirs.write_seed("title: 计划\ntask 1: ab".encode() + b"\xff\n")
    with pytest.raises(DocumentError) as caught:
        run_build(dirs)
    assert str(caught.value).startswith(f"{path}:2:11: not UTF-8")


def test_the_same_seed_text_twice_is_refused(dirs: Dirs) -> None:
    dirs.write_seed(GOOD, "other.txt")
    with pytest.raises(b.BuildError, match=r"plan\.txt: the same text as .*other\.txt \(one plan twice\)"):
        run_build(dirs)


# --- staleness -----------------------------------------------------------------------------------------


def stale(d: Dirs, vocab: Vocab = VOCAB) -> str | None:
    return b.staleness(d.seeds, d.dist, d.store, vocab, d.ontology)


def test_staleness_follows_the_inputs_and_the_outputs(
    dirs: Dirs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fingerprint a fixed copy of the code: the real mapping/ may be edited while the test runs.
    code = tmp_path / "code"
    code.mkdir()
    (code / "rdf.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setattr(b, "_PACKAGE_DIR", code)
    assert stale(dirs) == f"no built store in {dirs.store}"
    assert b.is_stale(dirs.seeds, dirs.dist, dirs.store, VOCAB, dirs.ontology)
    run_build(dirs)
    assert stale(dirs) is None
    assert not b.is_stale(dirs.seeds, dirs.dist, dirs.store, VOCAB, dirs.ontology)
    assert stale(dirs, Vocab("http://other.example/")) is not None
    (dirs.ontology / "shapes.ttl").write_text(SHAPES + "\n# changed\n", encoding="utf-8")
    assert stale(dirs) is not None
    run_build(dirs)
    dirs.write_seed(GOOD + "task 3: 新任务\n")
    assert stale(dirs) is not None
    run_build(dirs)
    (dirs.dist / "plankg.ttl.gz").unlink()
    assert stale(dirs) == f"dump files missing in {dirs.dist}"
    run_build(dirs)
    (dirs.dist / "manifest.json").unlink()
    assert stale(dirs) == f"no dumps in {dirs.dist}"


def test_the_fingerprint_covers_the_mapping_code_and_data(
    dirs: Dirs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    (code / "data").mkdir(parents=True)
    (code / "rdf.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setattr(b, "_PACKAGE_DIR", code)

    def fingerprint() -> str:
        return b.inputs_fingerprint(dirs.seeds, VOCAB, dirs.ontology)

    first = fingerprint()
    assert fingerprint() == first
    (code / "notes.txt").write_text("not code", encoding="utf-8")
    assert fingerprint() == first
    (code / "rdf.py").write_text("x = 2\n", encoding="utf-8")
    second = fingerprint()
    assert second != first
    (code / "data" / "orgs.toml").write_text("[org]\n", encoding="utf-8")
    third = fingerprint()
    assert third != second
    monkeypatch.setattr(b, "_version", lambda name: "99.0" if name == "pyoxigraph" else "1.0")
    assert fingerprint() != third


def test_warnings_are_printed_verbatim_not_as_markup() -> None:
    out = io.StringIO()
    b.RichProgress(Console(file=out, width=40)).warn(
        "Warning: <x> [shape pksh:Declared, sh:SPARQLConstraintComponent]"
    )
    assert "Warning: <x> [shape pksh:Declared, sh:SPARQLConstraintComponent]" in out.getvalue()


def test_literals_that_oxigraph_would_merge_fail_the_build(dirs: Dirs) -> None:
    def twin_decimals(raw: str, source_name: str, vocab: Vocab) -> Graph:
        g = toy_graph(raw, source_name, vocab)
        g.add((vocab.plan(), vocab.pk.amount, Literal("1.0", datatype=XSD.decimal)))
        g.add((vocab.plan(), vocab.pk.amount, Literal("1.00", datatype=XSD.decimal)))
        return g

    run_build(dirs)
    before = snapshot(dirs.dist, dirs.store)
    with pytest.raises(b.BuildError, match="distinct literals equal"):
        run_build(dirs, make_graph=twin_decimals)
    assert snapshot(dirs.dist, dirs.store) == before


# --- another plan of the genre, end to end ---------------------------------------------------------------


def test_another_plan_of_the_genre_builds_validates_and_is_published(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The real pipeline on tests/fixtures/small_plan.txt: the curated English labels and named
    projects belong to the seed's plan, so they are left out with a notice, and the build goes on."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    raw = (REPO / "tests" / "fixtures" / "small_plan.txt").read_bytes()
    (seeds / "small_plan.txt").write_bytes(raw)
    with caplog.at_level(logging.WARNING, logger="mapping.graph"):
        result = b.build(seeds, tmp_path / "dist", tmp_path / "store", VOCAB)
    assert any("labels_en.toml is written for" in r.getMessage() for r in caplog.records)
    manifest = json.loads((tmp_path / "dist" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["validation"]["violations"] == 0 and manifest["validation"]["conforms"] is True
    plan = parse_plan(raw.decode("utf-8"), source_name="small_plan.txt")
    g = Graph().parse(tmp_path / "dist" / "plankg.nt", format="nt")
    assert len(g) == result.triples
    pk = VOCAB.pk
    small = VOCAB.for_plan(
        "plan-5b8642-2026-2028"
    )  # 潍坊 is not catalogued; the hash of the title; the period
    assert [p.slug for p in result.plans] == ["plan-5b8642-2026-2028"]
    assert set(g.subjects(RDF.type, pk.Pillar)) == {small.pillar(p.number) for p in plan.pillars}
    assert set(g.subjects(RDF.type, pk.Task)) == {small.task(t.number) for t in plan.tasks}
    assert len(plan.pillars) >= 2 and len(plan.tasks) >= 5
    for task in plan.tasks:
        assert g.value(small.task(task.number), pk.pillar) is not None
        assert {lit.language for lit in g.objects(small.task(task.number), RDFS.label)} == {"zh"}
    assert not set(g.subjects(RDF.type, pk.Project))
