"""mapping.dumps: canonical order, the four formats, gzip, SHA-256 manifest."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDFS, XSD, BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from mapping import dumps

BASE = "http://example.org/plan/"
ID = Namespace(BASE + "id/")
PK = Namespace(BASE + "def/")
PREFIXES = {"pk": str(PK), "id": str(ID), "rdfs": str(RDFS), "xsd": str(XSD)}
REPORT = BASE + "id/graph/validation"


def sample_graph() -> Graph:
    g = Graph()
    for n in range(1, 13):
        task = ID[f"task/{n}"]
        g.add((task, RDFS.label, Literal(f"第{n}项任务：推进“绿色”发展\n（续）", lang="zh")))
        g.add((task, RDFS.label, Literal(f"Task {n}", lang="en")))
        g.add((task, PK.position, Literal(n)))
        g.add((task, PK.investment, Literal("1292.20", datatype=XSD.decimal)))
        g.add((task, PK.note, Literal('plain "quoted" \\ text')))
        g.add((task, PK.partOf, ID.plan))
    return g


def report_graph(seed: int) -> Graph:
    """A small SHACL-like report with blank nodes whose identifiers depend on ``seed``."""
    sh = Namespace("http://www.w3.org/ns/shacl#")
    rng = random.Random(seed)
    g = Graph()
    report = BNode(f"r{rng.random()}")
    g.add((report, sh.conforms, Literal(False)))
    for n in (3, 7):
        result = BNode(f"x{rng.random()}")
        g.add((report, sh.result, result))
        g.add((result, sh.focusNode, ID[f"task/{n}"]))
        g.add((result, sh.resultMessage, Literal(f"warning about task {n}")))
    return g


def rdflib_parse(data: bytes, fmt: str) -> Graph:
    with warnings.catch_warnings():
        # rdflib 7.6's JSON-LD and N-Quads parsers use its own deprecated ConjunctiveGraph API.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="rdflib")
        if fmt != "nquads":
            return Graph().parse(data=data, format=fmt)
        dataset = Dataset()
        dataset.parse(data=data, format=fmt)
        return dataset


def quads_of(data: Graph, report: Graph) -> list[ox.Quad]:
    sk = dumps.BlankNodeSkolemizer(BASE)
    return dumps.canonical_order(dumps.graph_quads(data, None, sk) + dumps.graph_quads(report, REPORT, sk))


Written = tuple[Path, list[dumps.DumpFile], list[ox.Quad]]


@pytest.fixture
def written(tmp_path: Path) -> Written:
    quads = quads_of(sample_graph(), report_graph(1))
    files = dumps.write_dumps(quads, tmp_path, PREFIXES)
    dumps.write_manifest(tmp_path, files, {"build_id": dumps.build_id(files)})
    return tmp_path, files, quads


def test_every_format_is_written_plain_and_gzipped(
    written: Written,
) -> None:
    directory, files, _ = written
    names = {f.name for f in files}
    assert names == {f"plankg.{ext}{gz}" for ext in ("ttl", "nt", "nq", "jsonld") for gz in ("", ".gz")}
    assert sorted(p.name for p in directory.iterdir()) == sorted([*names, "SHA256SUMS", "manifest.json"])


def test_gzip_files_decompress_to_the_plain_dumps_and_have_a_fixed_header(
    written: Written,
) -> None:
    directory, _, _ = written
    for plain in directory.glob("plankg.*[!z]"):
        packed = (directory / (plain.name + ".gz")).read_bytes()
        assert gzip.decompress(packed) == plain.read_bytes()
        assert packed[3] & 0x08 == 0, "no FNAME field in the header"
        assert packed[4:8] == b"\0\0\0\0", "mtime is zero"


def test_manifest_and_sha256sums_match_the_files(
    written: Written,
) -> None:
    directory, files, _ = written
    lines = (directory / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(files) == 8
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == digest
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        data = (directory / entry["name"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["build_id"] == dumps.build_id(files)


def test_all_formats_parse_back_to_the_same_graph(
    written: Written,
) -> None:
    directory, _, _ = written
    expected = sample_graph()
    for ext, fmt in (("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")):
        parsed = rdflib_parse((directory / f"plankg.{ext}").read_bytes(), fmt)
        assert isomorphic(parsed, expected), ext
    dataset = rdflib_parse((directory / "plankg.nq").read_bytes(), "nquads")
    assert isinstance(dataset, Dataset)
    default = Graph()
    for t in dataset.default_graph:
        default.add(t)
    assert isomorphic(default, expected)
    report = dataset.graph(URIRef(REPORT))
    assert len(report) == len(report_graph(1))
    assert not any(isinstance(t, BNode) for triple in report for t in triple)


def test_jsonld_also_parses_with_pyoxigraph(
    written: Written,
) -> None:
    directory, _, quads = written
    parsed = set(ox.parse(path=str(directory / "plankg.jsonld"), format=ox.RdfFormat.JSON_LD))
    assert parsed == {q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)}


def test_ntriples_lines_are_sorted_and_quads_put_the_default_graph_first(
    written: Written,
) -> None:
    directory, _, _ = written
    nt = (directory / "plankg.nt").read_text(encoding="utf-8").splitlines()
    assert nt == sorted(nt)
    assert len(nt) == len(sample_graph())
    nq = (directory / "plankg.nq").read_text(encoding="utf-8").splitlines()
    assert nq[: len(nt)] == nt
    assert all(line.endswith(f"<{REPORT}> .") for line in nq[len(nt) :])


def test_output_does_not_depend_on_insertion_order_or_blank_node_labels() -> None:
    triples = list(sample_graph())
    random.Random(5).shuffle(triples)
    shuffled = Graph()
    for t in triples:
        shuffled.add(t)
    first = quads_of(sample_graph(), report_graph(1))
    second = quads_of(shuffled, report_graph(2))
    assert first == second
    for fmt in dumps.FORMATS:
        assert dumps.serialize(first, fmt, PREFIXES) == dumps.serialize(second, fmt, PREFIXES)


def test_blank_nodes_become_well_known_genid_iris() -> None:
    quads = quads_of(sample_graph(), report_graph(1))
    genid = {str(t.value) for q in quads for t in (q.subject, q.object) if isinstance(t, ox.NamedNode)}
    assert any(iri.startswith(BASE + ".well-known/genid/") for iri in genid)
    assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))


def test_turtle_declares_no_prefix_whose_local_names_would_need_escapes() -> None:
    g = Graph()
    for n in range(3):
        g.add((ID[f"task/{n}"], PK.pillar, ID[f"pillar/{n}"]))
    g.add((ID.plan, PK.title, Literal("x")))
    text = dumps.serialize(quads_of(g, Graph()), dumps.FORMATS[0], PREFIXES).decode("utf-8")
    assert "@prefix pk:" in text
    assert "@prefix id:" not in text
    assert "\\/" not in text
    assert f"<{ID}task/1> pk:pillar <{ID}pillar/1>" in text
    assert isomorphic(rdflib_parse(text.encode("utf-8"), "turtle"), g)


def test_turtle_declares_only_the_prefixes_it_uses() -> None:
    quads = quads_of(sample_graph(), Graph())
    prefixes = {**PREFIXES, "unused": "http://unused.example/"}
    text = dumps.serialize(quads, dumps.FORMATS[0], prefixes).decode("utf-8")
    assert "@prefix pk:" in text
    assert "@prefix xsd:" in text
    assert "unused" not in text


def test_literals_keep_language_datatype_and_lexical_form() -> None:
    assert dumps.to_oxigraph(Literal("中", lang="zh")) == ox.Literal("中", language="zh")
    assert dumps.to_oxigraph(Literal("1292.20", datatype=XSD.decimal)) == ox.Literal(
        "1292.20", datatype=ox.NamedNode(str(XSD.decimal))
    )
    assert dumps.to_oxigraph(Literal("x")) == ox.Literal("x")
    with pytest.raises(TypeError, match="skolemise"):
        dumps.to_oxigraph(BNode())


def test_gzip_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same data gives the same bytes at any time: gzip would write the clock into its header
    (the two calls ran in the same second before, so a header with the time passed as well)."""
    import gzip as gzip_module

    monkeypatch.setattr(gzip_module.time, "time", lambda: 1_000_000_000.0)
    first = dumps.gzip_bytes(b"abc" * 1000)
    monkeypatch.setattr(gzip_module.time, "time", lambda: 2_000_000_000.0)
    second = dumps.gzip_bytes(b"abc" * 1000)
    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # MTIME
    assert gzip_module.decompress(first) == b"abc" * 1000


def test_jsonld_writes_compact_iris_under_a_context_of_the_used_prefixes(written: Written) -> None:
    directory, _, _ = written
    document = json.loads((directory / "plankg.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == {"id": str(ID), "pk": str(PK), "rdfs": str(RDFS), "xsd": str(XSD)}
    (first,) = (n for n in document["@graph"] if n["@id"] == "id:task/1")
    assert first["pk:partOf"] == [{"@id": "id:plan"}]
    assert {"@type": "xsd:integer", "@value": "1"} in first["pk:position"]


@pytest.mark.parametrize("subjects", [0, 1, 12])
def test_jsonld_made_one_subject_at_a_time_is_the_whole_graph_compacted_at_once(subjects: int) -> None:
    # The whole default graph serialised and compacted in one piece (as the dumps were written before)
    # against the document written node by node: the same bytes, with no subject, one or several.
    g = Graph()
    for s, p, o in sample_graph():
        if int(str(s).rsplit("/", 1)[1]) <= subjects:
            g.add((s, p, o))
    triples = [q.triple for q in quads_of(g, Graph())]
    whole = json.loads(ox.serialize(triples, format=ox.RdfFormat.JSON_LD) or b"")
    expected = dumps._compact_json_ld(whole, PREFIXES)
    assert dumps._json_ld_by_subject(triples, PREFIXES) == expected
    assert len(json.loads(expected)["@graph"]) == subjects


def test_named_graphs_given_one_at_a_time_give_the_same_files(tmp_path: Path) -> None:
    """``write_dumps(default, graphs=…)``: the N-Quads dump and its gzip written graph by graph (as a
    build writes each plan's graph when it comes) are byte for byte the dumps of the whole list."""
    quads = dumps.canonical_order(
        dumps.graph_quads(sample_graph(), None, dumps.BlankNodeSkolemizer(BASE))
        + dumps.graph_quads(report_graph(1), REPORT, dumps.BlankNodeSkolemizer(BASE))
        + dumps.graph_quads(report_graph(2), REPORT + "-2", dumps.BlankNodeSkolemizer(BASE))
    )
    default = [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]
    named = quads[len(default) :]
    assert named and default
    whole, chunked = tmp_path / "whole", tmp_path / "chunked"
    whole.mkdir()
    chunked.mkdir()
    expected = dumps.write_dumps(quads, whole, PREFIXES)
    # the named graphs in three pieces, one of them empty
    pieces = [named[:1], [], named[1:]]
    assert dumps.write_dumps(default, chunked, PREFIXES, graphs=iter(pieces)) == expected
    for f in expected:
        assert (chunked / f.name).read_bytes() == (whole / f.name).read_bytes(), f.name
    assert gzip.decompress((chunked / "plankg.nq.gz").read_bytes()) == (whole / "plankg.nq").read_bytes()
