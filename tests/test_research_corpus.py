"""Issue 11's services for researchers over a corpus of plans, not only the Jinan seed: reconciliation
of a plan's general-numbering divisions and of namesakes in two plans (the description says which
plan; a plan constraint decides), the CSV tables' CSVW round trip, and DCAT-AP 3.0.1 of the built and
the served description.

The corpus: the seed (Jinan genre, curated organisations), tests/fixtures/corpus-genre/shandong-energy
(Jinan genre, its metadata gives the slug) and three fictional plans in the ordinary official numbering
from tests/fixtures/corpus (东海省, 青川市 which implements it, 白鹭县), built once for the module.
"""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import csvw
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from mapping import tables
from mapping.build import BuildResult, build
from mapping.vocab import ELI, Vocab
from server.app import create_app
from server.settings import Settings
from tests.conftest import REPO, SEEDS, TestClient
from tests.test_dcatap import results
from tests.test_linksets import assert_the_verified_links_are_merged
from tests.test_reconcile import reconcile, validate
from tests.test_tables import assert_csvw_valid, comparable, csvw_to_rdf, facts_left_out

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:8000/"
VOCAB = Vocab(BASE)
PK = BASE + "def/"
DIVISION = PK + "Division"
FIXTURES = REPO / "tests" / "fixtures"
GENERAL = ("donghai-industry-green-transition-2024-2026", "qingchuan-industry-green-transition-2024-2026")
BAILU = "bailu-county-commerce-2023-2025"
DONGHAI_TITLE = "东海省推进工业绿色低碳转型实施方案(2024—2026年)"
BAILU_TITLE = "白鹭县推动县域商业体系建设三年行动计划(2023—2025年)"
SHANDONG_TITLE = "山东省推动能源绿色低碳转型三年行动计划(2023—2025年)"


@dataclass(frozen=True)
class Corpus:
    result: BuildResult
    settings: Settings

    @property
    def dist(self) -> Path:
        return self.settings.dist_dir

    def slug(self, stem: str) -> str:
        return next(p.slug for p in self.result.plans if p.source_name == f"{stem}.txt")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("research-corpus")
    seeds = root / "seeds"
    seeds.mkdir()
    for path in [*SEEDS.glob("*.txt"), *SEEDS.glob("*.plan.toml")]:
        shutil.copy(path, seeds)
    for path in (FIXTURES / "corpus-genre").glob("shandong-energy.*"):
        shutil.copy(path, seeds)
    for stem in (*GENERAL, BAILU):
        shutil.copy(FIXTURES / "corpus" / f"{stem}.txt", seeds)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        result = build(seeds, root / "dist", root / "store", VOCAB, linksets_dir=REPO / "linksets")
    assert len(result.plans) == 5
    return Corpus(result, Settings(store_dir=root / "store", dist_dir=root / "dist"))


@pytest.fixture(scope="module")
def client(corpus: Corpus) -> Iterator[TestClient]:
    with TestClient(create_app(corpus.settings)) as c:
        yield c


def candidates(client: TestClient, query: dict[str, Any]) -> list[tuple[str, str, float, bool, str]]:
    """(id, name, score, match, description) of each candidate, the batch validated against 0.2."""
    found = reconcile(client, {"q0": query})["q0"]["result"]
    return [(c["id"], c["name"], c["score"], c["match"], c["description"]) for c in found]


# --- reconciliation --------------------------------------------------------------------------------------


def test_divisions_of_a_general_numbering_plan_are_reconciled(corpus: Corpus, client: TestClient) -> None:
    donghai = VOCAB.for_plan(corpus.slug(GENERAL[0])).plan()
    guiding = f"{donghai}/division/1.1"
    result = reconcile(client, {"q0": {"query": "指导思想"}})["q0"]["result"]
    assert [(c["id"], c["name"], c["score"], c["match"]) for c in result] == [
        (guiding, "(一)指导思想", 100.0, True)
    ]
    assert result[0]["description"] == f"in 一、总体要求 · plan {DONGHAI_TITLE}"
    assert result[0]["type"] == [
        {"id": DIVISION, "name": "Division"},
        {"id": PK + "FrameDivision", "name": "Frame division"},
    ]
    assert {"id": "name_exact", "value": True} in result[0]["features"]
    # By its number and title as printed, and narrowed by the subtype: a frame division is no action.
    assert candidates(client, {"query": "（一）指导思想", "type": DIVISION})[0][:4] == (
        guiding,
        "(一)指导思想",
        100.0,
        True,
    )
    assert candidates(client, {"query": "指导思想", "type": PK + "ActionDivision"}) == []
    # A division at the third level: an item 1. of a section (一) of part 二、.
    item = candidates(client, {"query": "严控高耗能项目盲目发展", "type": DIVISION})
    assert item[0][:4] == (f"{donghai}/division/2.1.1", "1.严控高耗能项目盲目发展", 100.0, True)
    assert item[0][4] == f"in (一)推动产业结构优化升级 · plan {DONGHAI_TITLE}"


def test_namesakes_in_two_plans_say_which_plan_and_a_plan_constraint_decides(
    corpus: Corpus, client: TestClient
) -> None:
    donghai = VOCAB.for_plan(corpus.slug(GENERAL[0])).plan()
    bailu = VOCAB.for_plan(corpus.slug(BAILU)).plan()
    both = candidates(client, {"query": "保障措施", "type": DIVISION})
    assert sorted(both) == sorted(
        [
            (f"{donghai}/division/4", "四、保障措施", 100.0, False, f"plan {DONGHAI_TITLE}"),
            (f"{bailu}/division/4", "四、保障措施", 100.0, False, f"plan {BAILU_TITLE}"),
        ]
    )
    for title, plan in ((DONGHAI_TITLE, donghai), (BAILU_TITLE, bailu)):
        told = candidates(
            client, {"query": "保障措施", "type": DIVISION, "properties": [{"pid": "plan", "v": title}]}
        )
        assert told[0] == (f"{plan}/division/4", "四、保障措施", 100.0, True, f"plan {title}")
        assert [c[3] for c in told[1:]] == [False]
    by_id = candidates(
        client,
        {"query": "保障措施", "type": DIVISION, "properties": [{"pid": "plan", "v": {"id": str(bailu)}}]},
    )
    assert by_id[0][:4] == (f"{bailu}/division/4", "四、保障措施", 100.0, True)


def test_tasks_of_two_jinan_genre_plans_and_the_curated_abbreviations(client: TestClient) -> None:
    task = candidates(client, {"query": "发展海上风电", "type": PK + "Task"})
    assert [c[1:5] for c in task] == [("(一)发展海上风电", 100.0, True, f"plan {SHANDONG_TITLE}")]
    jinan = candidates(client, {"query": "调整优化能源结构", "type": PK + "Task"})
    assert jinan[0][1:4] == ("(十八)调整优化能源结构", 100.0, True)
    assert jinan[0][4].endswith("plan 济南市深化新旧动能转换推动绿色低碳高质量发展三年行动计划(2023—2025年)")
    # The curated abbreviations still decide with more plans naming the organisations.
    cas = candidates(client, {"query": "中科院"})[0]
    assert cas[:4] == (BASE + "id/org/chinese-academy-of-sciences", "中国科学院", 95.0, True)
    spic = candidates(client, {"query": "国家电投", "type": "http://www.w3.org/ns/org#Organization"})[0]
    assert spic[1:4] == ("国家电力投资集团", 95.0, True)


def test_divisions_propose_and_extend_their_properties(corpus: Corpus, client: TestClient) -> None:
    proposal = client.get("/reconcile/properties", params={"type": DIVISION}).json()
    validate("data-extension-property-proposal.json", proposal)
    assert [p["id"] for p in proposal["properties"]] == [
        "plan",
        "part_of",
        "divisions",
        "number",
        "name_en",
        "mentions",
    ]
    donghai = VOCAB.for_plan(corpus.slug(GENERAL[0])).plan()
    part, targets = f"{donghai}/division/1", f"{donghai}/division/1.2"
    query = {"ids": [part, targets], "properties": [{"id": p["id"]} for p in proposal["properties"]]}
    validate("data-extension-query.json", query)
    body = client.get("/reconcile", params={"extend": json.dumps(query, ensure_ascii=False)}).json()
    validate("data-extension-response.json", body)
    plan_cell = [{"id": str(donghai), "name": DONGHAI_TITLE}]
    for row in body["rows"].values():  # values come in no particular order
        row["divisions"].sort(key=lambda cell: cell["id"])
    assert body["rows"] == {
        part: {
            "plan": plan_cell,
            "part_of": [],
            "divisions": [
                {"id": f"{donghai}/division/1.1", "name": "(一)指导思想"},
                {"id": targets, "name": "(二)主要目标"},
            ],
            "number": [{"str": "一"}],
            "name_en": [],
            "mentions": [],
        },
        targets: {
            "plan": plan_cell,
            "part_of": [{"id": part, "name": "一、总体要求"}],
            "divisions": [],
            "number": [{"str": "二"}],
            "name_en": [],
            "mentions": [],
        },
    }
    plan_row = client.get(
        "/reconcile",
        params={"extend": json.dumps({"ids": [str(donghai)], "properties": [{"id": "divisions"}]})},
    ).json()["rows"][str(donghai)]
    assert sorted(c["id"] for c in plan_row["divisions"]) == [f"{donghai}/division/{n}" for n in (1, 2, 3, 4)]
    assert {c["name"] for c in plan_row["divisions"]} == {
        "一、总体要求",
        "二、重点任务",
        "三、重点工程",
        "四、保障措施",
    }
    preview = client.get("/reconcile/preview", params={"id": targets})
    assert preview.status_code == 200
    assert "<dt>part of</dt><dd>一、总体要求</dd>" in preview.text
    types = client.get("/reconcile/suggest/type", params={"prefix": "div"}).json()
    validate("suggest-types-response.json", types)
    assert [t["id"] for t in types["result"]] == [DIVISION]


# --- tables ----------------------------------------------------------------------------------------------


def test_the_tables_of_a_corpus_validate_and_round_trip_to_the_graphs_own_triples(corpus: Corpus) -> None:
    group = csvw.TableGroup.from_file(corpus.dist / tables.METADATA_FILE)
    counts = {t.url.string: sum(1 for _ in t.iterdicts(strict=True)) for t in group.tables}
    assert counts["plankg-plans.csv"] == 5
    # Jinan's 59 pillars and tasks, Shandong's 2 pillars and 3 tasks, 东海 24, 青川 16, 白鹭 14 divisions.
    assert counts["plankg-divisions.csv"] == 59 + 5 + 24 + 16 + 14
    assert counts["plankg-citations.csv"] == 7  # 青川 implements 东海 by its exact title: one resolves
    assert group.check_referential_integrity()
    assert_csvw_valid(corpus.dist / tables.METADATA_FILE)
    data = Graph().parse(corpus.dist / "plankg.nt")
    graph = {(s, p, comparable(o)) for s, p, o in data}
    produced = {(s, p, comparable(o)) for s, p, o in csvw_to_rdf(corpus.dist / tables.METADATA_FILE)}
    assert produced - graph == set()
    assert facts_left_out(corpus.dist / tables.METADATA_FILE, data) == []  # and nothing is left out
    donghai = VOCAB.for_plan(corpus.slug(GENERAL[0])).plan()
    qingchuan = VOCAB.for_plan(corpus.slug(GENERAL[1])).plan()
    division = URIRef(f"{donghai}/division/1.2")
    assert (division, RDF.type, VOCAB.pk.FrameDivision) in produced
    assert (division, ELI.is_part_of, URIRef(f"{donghai}/division/1")) in produced
    with (corpus.dist / "plankg-citations.csv").open(encoding="utf-8", newline="") as f:
        cited = [(r["relation"], r["cited"]) for r in csv.DictReader(f) if r["citing_plan"] == str(qingchuan)]
    assert (str(ELI.implements), str(donghai)) in cited


# --- DCAT-AP 3.0.1 ---------------------------------------------------------------------------------------


def test_the_built_and_the_served_description_of_a_corpus_conform_to_dcat_ap(
    corpus: Corpus, client: TestClient
) -> None:
    built = Graph().parse(corpus.dist / "void.ttl")
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    served = Graph().parse(data=r.text, format="turtle")
    assert len(served) > len(built)  # the served one adds the source's node
    catalogue = VOCAB.thing("dataset")
    for description in (built, served):
        assert results(description, "shapes.ttl", "range.ttl") == set()
        titles = {str(t) for t in description.objects(catalogue, DCTERMS.title)}
        assert titles == {"The plans as a knowledge graph"}  # a corpus: no one plan's title, plural
        datasets = set(description.objects(catalogue, DCAT.dataset))
        assert datasets == {VOCAB.thing("dataset", "plan", p.slug) for p in corpus.result.plans}
        assert all((d, RDF.type, DCAT.Dataset) in description for d in datasets)


def test_the_first_linkset_is_merged_into_a_corpus_build(corpus: Corpus) -> None:
    """linksets/wikidata-verified.csv resolves against the corpus's entities as against the seed's."""
    assert_the_verified_links_are_merged(corpus.dist)


# --- versions and change sets (last: it rebuilds the corpus) ---------------------------------------------


def test_a_second_build_of_the_corpus_gives_its_change_set_per_plan_and_keeps_both_versions(
    corpus: Corpus,
) -> None:
    seeds = corpus.dist.parent / "seeds"
    donghai_slug, first = corpus.slug(GENERAL[0]), corpus.result.build_id
    first_files = {p.name: p.read_bytes() for p in corpus.dist.iterdir()}
    text = (seeds / f"{GENERAL[0]}.txt").read_text(encoding="utf-8")
    assert text.count("绿色工厂数量达到200家以上") == 1
    (seeds / f"{GENERAL[0]}.txt").write_text(text.replace("达到200家以上", "达到300家以上"), encoding="utf-8")
    shutil.copy(FIXTURES / "corpus" / "yunling-digital-economy.txt", seeds)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        second = build(seeds, corpus.dist, corpus.settings.store_dir, VOCAB, linksets_dir=REPO / "linksets")
    assert second.build_id != first
    document = json.loads((corpus.dist / "changes.json").read_text(encoding="utf-8"))
    assert (document["previous"], document["current"]) == (first, second.build_id)
    yunling_slug = next(p.slug for p in second.plans if p.source_name == "yunling-digital-economy.txt")
    donghai_graph = f"{BASE}id/graph/plan/{donghai_slug}"
    yunling_graph = f"{BASE}id/graph/plan/{yunling_slug}"
    # Only the edited plan's graph, the new plan's, the default graph and the validation report changed.
    assert set(document["graphs"]) == {"default", donghai_graph, yunling_graph, f"{BASE}id/graph/validation"}
    donghai, yunling = VOCAB.for_plan(donghai_slug).plan(), VOCAB.for_plan(yunling_slug).plan()
    edited = document["graphs"][donghai_graph]
    changed = {
        "divisions": {
            "added": [],
            "removed": [],
            "changed": [f"{donghai}/division/1", f"{donghai}/division/1.2"],
        },
        # 绿色工厂数量达到200家以上 is the third target of (二)主要目标
        "targets": {"added": [], "removed": [], "changed": [f"{donghai}/target/1.2-3"]},
    }
    assert edited["entities"] == changed
    added = document["graphs"][yunling_graph]
    assert added["removed"] == 0 and added["entities"]["plans"]["added"] == [str(yunling)]
    # The corpus's summary compares triples: the organisations and places the new plan's graph describes
    # too are not changed; the new plan's divisions and targets are added.
    summary = document["entities"]
    assert summary["plans"] == {"added": [str(yunling)], "removed": [], "changed": []}
    assert summary["divisions"]["changed"] == changed["divisions"]["changed"]
    assert summary["targets"]["changed"] == changed["targets"]["changed"]
    assert all(
        a.startswith(f"{yunling}/") for a in summary["divisions"]["added"] + summary["targets"]["added"]
    )
    assert all(summary[k] == {"added": [], "removed": [], "changed": []} for k in ("organisations", "places"))
    # In words: every entity the summary lists has its name, a changed one the properties that changed.
    listed = {iri for by in summary.values() for iris in by.values() for iri in iris}
    assert set(document["labels"]) == listed
    assert document["labels"][f"{donghai}/target/1.2-3"] == "绿色工厂数量达到300家以上"
    assert PK + "value" in document["changed_properties"][f"{donghai}/target/1.2-3"]
    with TestClient(create_app(corpus.settings)) as c:
        html = c.get("/changes", headers={"accept": "text/html"}).text
        assert f"{donghai}/target/1.2-3" in html and str(yunling) in html
        assert "divisions: 0 added, 0 removed, 2 changed; targets: 0 added, 0 removed, 1 changed" in html
        old = c.get(f"/dumps/versions/{first}/plan-{donghai_slug}.nt")
        assert old.status_code == 200 and old.content == first_files[f"plan-{donghai_slug}.nt"]
        new = c.get(f"/dumps/versions/{second.build_id}/plan-{donghai_slug}.nt")
        assert new.content == (corpus.dist / f"plan-{donghai_slug}.nt").read_bytes() != old.content
