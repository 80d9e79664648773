"""mapping.general, mapping.outline_rdf and mapping.crossrefs: plans in the general official numbering
in the graph — divisions, their facts, citations — and citations resolved across a corpus."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Literal, URIRef

from mapping.build import build
from mapping.graph import GENERAL, PILLARS_AND_TASKS, document_graph, shape_of
from mapping.validate import ONTOLOGY_DIR, validate
from mapping.vocab import ELI, OA, Vocab
from server.app import create_app
from server.settings import Settings
from tests.conftest import TestClient

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
DONGHAI = FIXTURES / "donghai-industry-green-transition-2024-2026.txt"
QINGCHUAN = FIXTURES / "qingchuan-industry-green-transition-2024-2026.txt"
SEED = Path(__file__).parents[1] / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
VOCAB = Vocab().for_plan("donghai")


def graph_of(path: Path, vocab: Vocab = VOCAB) -> Graph:
    return document_graph(path.read_text(encoding="utf-8"), path.name, vocab)


@pytest.fixture(scope="module")
def donghai() -> Graph:
    return graph_of(DONGHAI)


def division(path: str) -> URIRef:
    return VOCAB.part("division", path)


def test_shapes_are_told_apart() -> None:
    for path in sorted(FIXTURES.glob("*.txt")):
        assert shape_of(path.read_text(encoding="utf-8"), path.name) is GENERAL, path.name
    assert shape_of(SEED.read_text(encoding="utf-8"), SEED.name) is PILLARS_AND_TASKS


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_every_general_fixture_conforms(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        outcome = validate(graph_of(path), VOCAB, ONTOLOGY_DIR)
    assert outcome.violations == 0, outcome.report_text


def test_divisions_with_level_role_numbering_and_parent(donghai: Graph) -> None:
    pk = VOCAB.pk
    part = division("1")
    assert (VOCAB.plan(), ELI.has_part, part) in donghai
    assert (part, RDF.type, pk.FrameDivision) in donghai  # 一、总体要求
    assert donghai.value(part, ELI.title) == Literal("总体要求", lang="zh")
    assert donghai.value(part, pk.level) == Literal(1)
    assert donghai.value(part, pk.numberingStyle) == VOCAB.term("numberingStyle/chineseComma")
    section = division("2.1")  # the first section of 二、重点任务: numbering restarts in every part
    assert (section, RDF.type, pk.ActionDivision) in donghai
    assert donghai.value(section, ELI.number) == Literal("一")
    assert donghai.value(section, ELI.is_part_of) == division("2")
    assert donghai.value(section, pk.level) == Literal(2)
    item = next(iter(donghai.objects(section, ELI.has_part)))
    assert donghai.value(item, pk.level) == Literal(3)
    assert donghai.value(item, pk.numberingStyle) == VOCAB.term("numberingStyle/arabicPoint")
    levels = {int(str(o)) for o in donghai.objects(None, pk.level)}
    assert levels == {1, 2, 3, 4}


def test_targets_of_frame_divisions_and_of_items(donghai: Graph) -> None:
    """The main targets stand in 一、总体要求 (二)主要目标: read there, tied to that division."""
    pk = VOCAB.pk
    targets = set(donghai.subjects(RDF.type, pk.Target))
    by_division = {donghai.value(t, pk.task) for t in targets}
    assert division("1.2") in by_division
    assert (division("1.2"), RDF.type, pk.FrameDivision) in donghai
    main = sorted(str(t) for t in targets if donghai.value(t, pk.task) == division("1.2"))
    assert main[0] == str(VOCAB.part("target", "1.2-1"))
    for target in targets:
        span = donghai.value(target, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))
        assert span is not None


def test_citations_of_a_general_plan(donghai: Graph) -> None:
    pk = VOCAB.pk
    citations = sorted(donghai.subjects(RDF.type, pk.Citation), key=str)
    relations = {donghai.value(c, pk.citationRelation) for c in citations}
    assert relations == {ELI.implements, ELI.based_on}
    implemented = next(donghai.objects(VOCAB.plan(), ELI.implements))
    assert (implemented, RDF.type, pk.CitedDocument) in donghai
    assert donghai.value(implemented, pk.documentNumber) == Literal("国发〔2022〕31号")
    for c in citations:
        quote = donghai.value(c, OA.hasTarget)
        assert (c, pk.citingPlan, VOCAB.plan()) in donghai and quote is not None


def test_the_jinan_plan_implements_the_two_documents_its_preamble_names() -> None:
    vocab = Vocab().for_plan("jinan")
    g = graph_of(SEED, vocab)
    titles = {str(g.value(doc, ELI.title)) for doc in g.objects(vocab.plan(), ELI.implements)}
    assert titles == {
        "国务院关于支持山东深化新旧动能转换推动绿色低碳高质量发展的意见",
        "山东省建设绿色低碳高质量发展先行区三年行动计划(2023—2025年)",
    }


def _build(tmp_path: Path, *plans: Path) -> ox.Store:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for plan in plans:
        shutil.copy(plan, seeds / plan.name)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "NotImplemented should not be used", DeprecationWarning)
        build(seeds, tmp_path / "dist", tmp_path / "store", cache_dir=tmp_path / "cache")
    return ox.Store.read_only(str(tmp_path / "store"))


def test_a_citation_of_a_plan_in_the_corpus_is_that_plan(tmp_path: Path) -> None:
    store = _build(tmp_path, DONGHAI, QINGCHUAN)
    query = """PREFIX eli: <http://data.europa.eu/eli/ontology#> PREFIX pk: <http://127.0.0.1:8000/def/>
        SELECT ?citing ?cited ?stub WHERE { ?citing a pk:Plan ; eli:implements|eli:based_on ?cited .
        BIND(EXISTS { ?cited a pk:CitedDocument } AS ?stub) }"""
    rows = {(r["citing"].value, r["cited"].value, r["stub"].value) for r in store.query(query)}  # type: ignore[union-attr]
    plans = {r[0] for r in rows}
    assert len(plans) == 2
    in_corpus = [r for r in rows if r[1] in plans]
    assert len(in_corpus) == 1 and in_corpus[0][2] == "false"  # 青川 implements 东海's plan itself
    assert sum(1 for r in rows if r[2] == "true") == 3  # the outside documents stay stubs
    stubs = "SELECT (COUNT(*) AS ?n) WHERE { ?d a <http://127.0.0.1:8000/def/CitedDocument> }"
    assert next(iter(store.query(stubs)))["n"].value == "3"  # type: ignore[index]


LOOP = (
    "{a}市推进示范行动方案(2024—2026年)\n为落实《{b}市推进示范行动方案(2024—2026年)》，制定本方案。\n"
    "一、重点任务\n（一）推进{a}。到2025年完成。\n"
)
LOOP_A, LOOP_B = LOOP.format(a="甲", b="乙"), LOOP.format(a="乙", b="甲")


def test_a_citation_loop_is_a_warning_naming_file_line_and_column(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(LOOP_A, encoding="utf-8")
    (seeds / "b.txt").write_text(LOOP_B, encoding="utf-8")
    (seeds / "a.plan.toml").write_text('slug = "jia"\n', encoding="utf-8")
    (seeds / "b.plan.toml").write_text('slug = "yi"\n', encoding="utf-8")

    class Recording:
        def __init__(self) -> None:
            self.warnings: list[str] = []

        def stage(self, name: str):  # type: ignore[no-untyped-def]
            import contextlib

            return contextlib.nullcontext()

        def warn(self, text: str) -> None:
            self.warnings.append(text)

    progress = Recording()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "NotImplemented should not be used", DeprecationWarning)
        build(seeds, tmp_path / "dist", tmp_path / "store", progress=progress, cache_dir=tmp_path / "c")
    loops = [w for w in progress.warnings if w.startswith("citation loop")]
    assert len(loops) == 1
    assert f"{seeds / 'a.txt'}:2:4" in loops[0] and f"{seeds / 'b.txt'}:2:4" in loops[0]


def test_canned_queries_what_a_plan_cites_and_what_cites_a_document(plan_client: TestClient) -> None:
    def canned(name: str) -> list[dict[str, dict[str, str]]]:
        answer: list[dict[str, dict[str, str]]] = plan_client.get(f"/queries/{name}").json()["results"][
            "bindings"
        ]
        return answer

    cites = canned("plan-citations")
    assert [(r["relation"]["value"], r["inCorpus"]["value"], r["title"]["value"]) for r in cites] == [
        (str(ELI.implements), "false", "国务院关于支持山东深化新旧动能转换推动绿色低碳高质量发展的意见"),
        (str(ELI.implements), "false", "山东省建设绿色低碳高质量发展先行区三年行动计划(2023—2025年)"),
    ]
    assert cites[0]["quote"]["value"].startswith("《国务院关于支\n\n持山东")  # the exact characters
    cited = canned("cited-by")
    assert [(r["relation"]["value"], r["planTitle"]["value"][:3]) for r in cited] == [
        (str(ELI.implements), "济南市")
    ]


SCIENCE = (
    "济南市推进科教融合行动方案(2024—2026年)\n为推进科教融合，制定本方案。\n"
    "一、重点任务\n　　（一）共建平台。支持山东大学齐鲁医院建设临床研究中心。\n　　（二）完善机制。\n"
    "二、保障措施\n　　（一）加强组织领导。\n"
)


def test_plans_and_divisions_involving_an_organisation_or_a_place(tmp_path: Path) -> None:
    """The cross-plan queries reach the divisions of a plan in the general numbering."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "science.txt").write_text(SCIENCE, encoding="utf-8")
    (seeds / "science.plan.toml").write_text('slug = "science"\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "NotImplemented should not be used", DeprecationWarning)
        build(seeds, tmp_path / "dist", tmp_path / "store", cache_dir=tmp_path / "cache")
    settings = Settings(store_dir=tmp_path / "store", dist_dir=tmp_path / "dist", server_processes=1)
    plan = Vocab().for_plan("science")
    with TestClient(create_app(settings)) as client:
        org = client.get("/queries/plans-by-organisation", params={"org": "山东大学"}).json()["results"][
            "bindings"
        ]
        assert [(r["task"]["value"], r["number"]["value"], r["title"]["value"]) for r in org] == [
            (str(plan.part("division", "1.1")), "1", "共建平台")  # names 山东大学齐鲁医院, part of 山东大学
        ]
        place = client.get("/queries/plans-by-place", params={"place": "济南市"}).json()["results"][
            "bindings"
        ]
        assert [(r["plan"]["value"], "task" in r) for r in place] == [(str(plan.plan()), False)]  # the title
