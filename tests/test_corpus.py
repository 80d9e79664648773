"""A corpus of plans: one graph, a named graph, an IRI space and dumps per plan; slugs; the per-plan
cache; bad input; the cross-plan canned queries and pages; the 301s of the first release's IRIs.

The corpus is tests/fixtures/corpus-genre/: four fictional plans of the Jinan genre (临沂市, 商河县,
山东省 and a copy of tests/fixtures/small_plan.txt, 潍坊市, whose place is not catalogued).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from mapping import build as b
from mapping.corpus import MetadataError, derive_slug, find_seeds
from mapping.entities import load_catalogue
from mapping.errors import BuildError, DocumentError
from mapping.graph import document_graph
from mapping.vocab import SD, VOID, Vocab, legacy_path
from server.app import create_app
from server.settings import Settings
from tests.conftest import BuiltPlan, TestClient

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "fixtures" / "corpus-genre"
LEGACY_IRIS = REPO / "tests" / "fixtures" / "jinan-iris-v1.txt"
BASE = "http://127.0.0.1:8000/"
VOCAB = Vocab(BASE)
JINAN = "jinan-green-low-carbon-2023-2025"
SLUGS = {
    "linyi-innovation.txt": "linyi-science-technology-innovation-2024-2026",  # title_en in its metadata
    "shandong-energy.txt": "shandong-energy-2023-2025",  # slug given in its metadata
    "shanghe-rural.txt": "shanghe-5293dc-2025-2027",  # derived: place, hash of the title, period
    "weifang-manufacturing.txt": "plan-5b8642-2026-2028",  # 潍坊 is not in places.toml
}


def quiet_build(*args: object, **kwargs: object) -> b.BuildResult:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        return b.build(*args, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Built:
    root: Path
    result: b.BuildResult

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def store(self) -> Path:
        return self.root / "var" / "store"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("corpus")
    seeds = root / "seeds"
    shutil.copytree(CORPUS, seeds)
    result = quiet_build(seeds, root / "dist", root / "var" / "store", VOCAB)
    return Built(root, result)


@pytest.fixture(scope="module")
def client(corpus: Built) -> Iterator[TestClient]:
    settings = Settings(store_dir=corpus.store, dist_dir=corpus.dist)
    with TestClient(create_app(settings)) as c:
        yield c


def store_graph(path: Path, graph: str | None) -> set[tuple[str, str, str]]:
    store = ox.Store.read_only(str(path))
    name = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    return {
        (q.subject.value, q.predicate.value, str(q.object))  # type: ignore[union-attr]
        for q in store.quads_for_pattern(None, None, None, name)
    }


# --- one graph, a named graph and an IRI space per plan -------------------------------------------------


def test_every_plan_gets_its_slug_iri_space_and_named_graph(corpus: Built) -> None:
    assert {p.source_name: p.slug for p in corpus.result.plans} == SLUGS
    store = ox.Store.read_only(str(corpus.store))
    graphs = {g.value for g in store.named_graphs()}  # type: ignore[union-attr]
    for slug in SLUGS.values():
        assert f"{BASE}id/graph/plan/{slug}" in graphs
        plan = f"<{BASE}id/plan/{slug}>"
        assert store.query(f"ASK {{ {plan} a <{BASE}def/Plan> }}")
        # every part of the plan is under its IRI space, and its graph holds no other plan's part
        parts = store_graph(corpus.store, f"{BASE}id/graph/plan/{slug}")
        minted = {s for s, _, _ in parts if s.startswith(f"{BASE}id/plan/")}
        assert minted and all(s == plan[1:-1] or s.startswith(f"{BASE}id/plan/{slug}/") for s in minted)
        assert {
            s for s, _, _ in parts if s.startswith(f"{BASE}id/") and not s.startswith(f"{BASE}id/plan/")
        } <= {
            s
            for s, _, _ in parts
            if s.startswith((f"{BASE}id/org/", f"{BASE}id/place", f"{BASE}id/region/", f"{BASE}id/period/"))
        }
    # corpus-wide things keep one IRI: 山东大学 is one node that two plans' tasks mention
    rows = list(
        store.query(f"SELECT ?task WHERE {{ ?task <{BASE}def/mentions> <{BASE}id/org/shandong-university> }}")
    )
    assert sorted(str(r[0]) for r in rows) == [  # type: ignore[index]
        f"<{BASE}id/plan/linyi-science-technology-innovation-2024-2026/task/1>",
        f"<{BASE}id/plan/linyi-science-technology-innovation-2024-2026/task/4>",
        f"<{BASE}id/plan/shandong-energy-2023-2025/task/2>",
    ]


def test_the_default_graph_is_the_union_of_the_plan_graphs_and_the_ontology(corpus: Built) -> None:
    default = store_graph(corpus.store, None)
    union: set[tuple[str, str, str]] = set()
    for slug in SLUGS.values():
        union |= store_graph(corpus.store, f"{BASE}id/graph/plan/{slug}")
    assert union < default
    rest = default - union
    assert rest and all(s.startswith(f"{BASE}def/") for s, _, _ in rest)  # the ontology only


def test_dumps_for_the_corpus_and_for_each_plan(corpus: Built) -> None:
    manifest = json.loads((corpus.dist / "manifest.json").read_text(encoding="utf-8"))
    names = {f["name"] for f in manifest["files"]}
    sums = (corpus.dist / "SHA256SUMS").read_text(encoding="utf-8")
    assert [p["slug"] for p in manifest["plans"]] == sorted(SLUGS.values(), key=list(SLUGS.values()).index)
    for slug in SLUGS.values():
        for ext in ("ttl", "nt", "nq", "jsonld"):
            for name in (f"plan-{slug}.{ext}", f"plan-{slug}.{ext}.gz"):
                assert name in names
                digest = hashlib.sha256((corpus.dist / name).read_bytes()).hexdigest()
                assert f"{digest}  {name}\n" in sums
        # the plan's N-Triples dump is exactly its named graph
        dumped = Graph().parse(corpus.dist / f"plan-{slug}.nt", format="nt")
        named = store_graph(corpus.store, f"{BASE}id/graph/plan/{slug}")
        assert len(dumped) == len(named) == next(p["triples"] for p in manifest["plans"] if p["slug"] == slug)


def test_the_description_is_a_catalogue_of_plan_datasets(corpus: Built) -> None:
    void = Graph().parse(corpus.dist / "void.ttl", format="turtle")
    catalogue = VOCAB.thing("dataset")
    assert (catalogue, RDF.type, DCAT.Catalog) in void
    assert (catalogue, RDF.type, DCAT.Dataset) in void  # as before: the whole graph is a dataset too
    datasets = set(void.objects(catalogue, DCAT.dataset))
    assert datasets == {VOCAB.thing("dataset", "plan", s) for s in SLUGS.values()}
    for slug in SLUGS.values():
        node = VOCAB.thing("dataset", "plan", slug)
        assert void.value(node, FOAF.primaryTopic) == VOCAB.for_plan(slug).plan()
        assert void.value(node, DCTERMS.identifier) == Literal(slug)
        graph = VOCAB.for_plan(slug).plan_graph_iri()
        assert (graph, RDF.type, SD.NamedGraph) in void and void.value(graph, SD.graph) == node
        dumps = {str(void.value(d, DCTERMS.title)) for d in void.objects(node, DCAT.distribution)}
        assert dumps == {f"plan-{slug}.{e}{z}" for e in ("ttl", "nt", "nq", "jsonld") for z in ("", ".gz")}
        assert (node, VOID.dataDump, URIRef(f"{BASE}dumps/plan-{slug}.nt")) in void


# --- slugs ----------------------------------------------------------------------------------------------


def test_slugs_are_derived_from_place_short_title_and_period() -> None:
    catalogue = load_catalogue()
    jinan = "济南市深化新旧动能转换推动绿色低碳高质量发展三年行动计划(2023—2025年)"
    assert derive_slug(jinan, catalogue, "Green and low-carbon high-quality development action plan") == JINAN
    assert (
        derive_slug(jinan, catalogue)
        == "jinan-" + hashlib.sha256(jinan.encode()).hexdigest()[:6] + "-2023-2025"
    )
    assert derive_slug("山东省关于某事的意见", catalogue).startswith(
        "shandong-"
    )  # no period: none in the slug
    assert not derive_slug("山东省关于某事的意见", catalogue).endswith("-")


def test_slugs_and_output_are_stable_across_builds(corpus: Built, tmp_path: Path) -> None:
    """A second, cold build (no cache) of the same seeds gives the same slugs and the same bytes."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    again = quiet_build(seeds, tmp_path / "dist", tmp_path / "store", VOCAB, use_cache=False)
    assert [p.slug for p in again.plans] == [p.slug for p in corpus.result.plans]
    assert again.build_id == corpus.result.build_id
    for f in again.files:
        assert (tmp_path / "dist" / f.name).read_bytes() == (corpus.dist / f.name).read_bytes()


# --- the per-plan cache ---------------------------------------------------------------------------------


def test_a_rebuild_after_one_changed_plan_reads_only_that_plan(corpus: Built, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    calls: list[str] = []

    def counting(raw: str, name: str, vocab: Vocab) -> Graph:
        calls.append(name)
        return document_graph(raw, name, vocab)

    dist, store, cache = tmp_path / "dist", tmp_path / "var" / "store", tmp_path / "var" / "cache"
    first = quiet_build(seeds, dist, store, VOCAB, make_graph=counting)
    assert sorted(calls) == sorted(SLUGS) and set(first.parsed) == set(SLUGS.values())
    calls.clear()
    unchanged = quiet_build(seeds, dist, store, VOCAB, make_graph=counting)
    assert calls == [] and unchanged.parsed == () and unchanged.build_id == first.build_id

    path = seeds / "shanghe-rural.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("50万亩", "60万亩"), encoding="utf-8")
    changed = quiet_build(seeds, dist, store, VOCAB, make_graph=counting)
    assert calls == ["shanghe-rural.txt"] and changed.parsed == (SLUGS["shanghe-rural.txt"],)
    assert changed.build_id != first.build_id
    # the changed plan's previous entry was pruned once the rebuild was in place (mapping.prune)
    assert len(list((cache / "plans").iterdir())) == 4

    cold = quiet_build(seeds, tmp_path / "cold-dist", tmp_path / "cold-store", VOCAB, use_cache=False)
    assert cold.build_id == changed.build_id
    for f in cold.files:
        assert (tmp_path / "cold-dist" / f.name).read_bytes() == (dist / f.name).read_bytes()


# --- bad input ------------------------------------------------------------------------------------------


def snapshot(*roots: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """Two plans built once (so a failing build has an output to leave alone)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in ("shanghe-rural.txt", "weifang-manufacturing.txt"):
        shutil.copy(CORPUS / name, seeds / name)
    quiet_build(seeds, tmp_path / "dist", tmp_path / "var" / "store", VOCAB)
    return seeds


def failing(seeds: Path, error: type[Exception]) -> str:
    root = seeds.parent
    before = snapshot(root / "dist", root / "var" / "store")
    with pytest.raises(error) as caught:
        quiet_build(seeds, root / "dist", root / "var" / "store", VOCAB)
    assert snapshot(root / "dist", root / "var" / "store") == before
    return str(caught.value)


def test_a_file_that_is_not_a_plan_names_file_line_and_column(small_corpus: Path) -> None:
    (small_corpus / "notes.txt").write_text("会议纪要\n\n今天讨论了三件事。\n", encoding="utf-8")
    message = failing(small_corpus, DocumentError)
    # Neither reader reads it; the general reader's error says what is missing and where.
    assert message == f"{small_corpus / 'notes.txt'}:3:10: no heading (一、, (一), 1. or (1)) in the document"


def test_numbering_that_restarts_is_read_as_the_general_numbering(small_corpus: Path) -> None:
    """Sections (一) that restart in every part are not the Jinan genre (tasks numbered across): the
    general reader (mapping.outline) reads them as divisions, numbered as printed."""
    text = (
        "某市推进某事三年行动计划\n（2024—2026年）\n为推进某事，制定本计划。\n"
        "一、聚力甲事，在甲上走在前列\n　　（一）做甲一。推进甲一。\n　　（二）做甲二。推进甲二。\n"
        "二、聚力乙事，在乙上走在前列\n　　（一）做乙一。推进乙一。\n"
    )
    (small_corpus / "restart.txt").write_text(text, encoding="utf-8")
    (small_corpus / "restart.plan.toml").write_text('slug = "restart"\n', encoding="utf-8")
    root = small_corpus.parent
    quiet_build(small_corpus, root / "dist", root / "var" / "store", VOCAB)
    store = ox.Store.read_only(str(root / "var" / "store"))
    query = f"""SELECT ?d ?n WHERE {{ GRAPH <{BASE}id/graph/plan/restart> {{
        ?d a <{BASE}def/Division> ; <http://data.europa.eu/eli/ontology#number> ?n }} }} ORDER BY ?d"""
    rows = [(r[0].value.rsplit("/", 1)[1], r[1].value) for r in store.query(query)]  # type: ignore[union-attr,index]
    assert rows == [("1", "一"), ("1.1", "一"), ("1.2", "二"), ("2", "二"), ("2.1", "一")]


def test_two_plans_claiming_one_slug_are_refused(small_corpus: Path) -> None:
    (small_corpus / "weifang-manufacturing.plan.toml").write_text(
        'slug = "shanghe-5293dc-2025-2027"\n', encoding="utf-8"
    )
    message = failing(small_corpus, BuildError)
    assert message == (
        f"{small_corpus / 'weifang-manufacturing.plan.toml'}: plan slug 'shanghe-5293dc-2025-2027' is "
        f"already the slug of {small_corpus / 'shanghe-rural.txt'}"
    )


def test_the_same_text_twice_is_refused(small_corpus: Path) -> None:
    shutil.copy(small_corpus / "shanghe-rural.txt", small_corpus / "shanghe-copy.txt")
    message = failing(small_corpus, BuildError)
    assert (
        message == f"{small_corpus / 'shanghe-rural.txt'}: the same text as "
        f"{small_corpus / 'shanghe-copy.txt'} (one plan twice)"
    )


def test_the_same_file_name_in_two_directories_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(CORPUS / "shanghe-rural.txt", tmp_path / "a" / "plan.txt")
    shutil.copy(CORPUS / "linyi-innovation.txt", tmp_path / "b" / "plan.txt")
    with pytest.raises(BuildError) as caught:
        find_seeds([tmp_path / "a", tmp_path / "b"])
    assert (
        str(caught.value) == f"{tmp_path / 'b' / 'plan.txt'}: another seed has the same file name: "
        f"{tmp_path / 'a' / 'plan.txt'}"
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('title_en = "x"\nslugg = "a-b"\n', ":2:1: unknown key 'slugg' (known: legacy_iris, slug, title_en)"),
        (
            'slug = "Jinan_Plan"\n',
            ":1:1: slug 'Jinan_Plan': lower-case ASCII letters and digits in words joined by '-'",
        ),
        ("legacy_iris = 1\n", ":1:1: legacy_iris must be a bool, not int"),
        ('slug = "a"\nslug = "b"\n', ":2:11: Cannot overwrite a value"),
    ],
)
def test_a_malformed_metadata_file_names_file_line_and_column(
    tmp_path: Path, toml: str, message: str
) -> None:
    shutil.copy(CORPUS / "shanghe-rural.txt", tmp_path / "plan.txt")
    (tmp_path / "plan.plan.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        find_seeds([tmp_path])
    assert str(caught.value).startswith(f"{tmp_path / 'plan.plan.toml'}{message}")


# --- the first release's IRIs ---------------------------------------------------------------------------


def test_every_legacy_iri_moves_by_the_rule_or_stays() -> None:
    lines = LEGACY_IRIS.read_text(encoding="utf-8").split()
    moved = [p for p in lines if p.startswith("id/") and legacy_path(p[3:], JINAN) is not None]
    kept = [p for p in lines if p.startswith("id/") and legacy_path(p[3:], JINAN) is None]
    assert len(moved) == 1527 and len(kept) == 70
    assert legacy_path("plan", JINAN) == f"plan/{JINAN}"
    assert legacy_path("task/18", JINAN) == f"plan/{JINAN}/task/18"
    assert legacy_path("org/shandong-university", JINAN) is None


def test_every_published_jinan_iri_still_answers(plan_client: TestClient, built_plan: BuiltPlan) -> None:
    """Each IRI of the first release's graph: a plan's part answers 301 to its new IRI (and its document
    301 to the new document) which the graph knows; every other IRI answers as before (303, 200)."""
    known = store_graph(built_plan.settings.store_dir, None)
    subjects = {s for s, _, _ in known} | {o[1:-1] for _, _, o in known if o.startswith("<")}
    for path in LEGACY_IRIS.read_text(encoding="utf-8").split():
        if path.startswith("id/"):
            new = legacy_path(path[3:], JINAN)
            response = plan_client.get("/" + quote(path), follow_redirects=False)
            if new is None:
                # the dataset description's and the graphs' IRIs live outside the default graph: 404
                # then and now; every other corpus-wide IRI (organisations, places …) is unchanged
                expected = 404 if path.startswith(("id/dataset", "id/graph/")) else 303
                assert response.status_code == expected, path
                continue
            assert response.status_code == 301, path
            assert response.headers["location"] == f"/id/{new}", path
            assert f"{BASE}id/{new}" in subjects, path
            doc = plan_client.get(f"/doc/{quote(path)}.ttl?x=1", follow_redirects=False)
            assert (doc.status_code, doc.headers["location"]) == (301, f"/doc/id/{new}.ttl?x=1"), path
        elif path.startswith("def/"):
            # the shapes were named only by the SHACL report, never published: 404 then and now
            expected = 404 if path.startswith("def/shape/") else 303
            assert plan_client.get("/" + path, follow_redirects=False).status_code == expected, path
        elif path.startswith("source/"):
            assert plan_client.get("/" + quote(path)).status_code == 200, path
    # an IRI under a plan's old space that never existed is still a 404
    assert plan_client.get("/id/task/999", follow_redirects=False).status_code == 404


# --- across plans: canned queries and pages -------------------------------------------------------------


def rows(client: TestClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/queries/{query}", headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in r.items()} for r in response.json()["results"]["bindings"]]


def test_the_plans_in_the_corpus(client: TestClient) -> None:
    got = [
        (r["slug"], r.get("placeLabel"), r["startYear"], r["endYear"], r["pillars"], r["tasks"], r["targets"])
        for r in rows(client, "plans")
    ]
    assert got == [
        ("linyi-science-technology-innovation-2024-2026", "临沂市", "2024", "2026", "2", "4", "2"),
        ("plan-5b8642-2026-2028", None, "2026", "2028", "3", "8", "2"),
        ("shandong-energy-2023-2025", "山东省", "2023", "2025", "2", "3", "1"),
        ("shanghe-5293dc-2025-2027", "商河县", "2025", "2027", "2", "3", "2"),
    ]


def test_targets_of_one_indicator_in_every_plan(client: TestClient) -> None:
    got = [
        (r["plan"].rsplit("/", 1)[1], r["value"], r["unit"].rsplit("/", 1)[1], r["targetYear"])
        for r in rows(client, "targets-of-indicator?indicator=talentPool")
    ]
    assert got == [
        ("linyi-science-technology-innovation-2024-2026", "1200000", "person", "2026"),
        ("shandong-energy-2023-2025", "5000000", "person", "2025"),
        ("shanghe-5293dc-2025-2027", "80000", "person", "2027"),
    ]


def test_plans_and_tasks_involving_an_organisation_or_a_place(client: TestClient) -> None:
    org = [
        (r["plan"].rsplit("/", 1)[1], r["number"], r["title"])
        for r in rows(client, "plans-by-organisation?org=山东大学")
    ]
    assert org == [
        ("linyi-science-technology-innovation-2024-2026", "1", "共建高水平研究机构"),
        ("linyi-science-technology-innovation-2024-2026", "4", "推进智能制造"),
        ("shandong-energy-2023-2025", "2", "推进科技攻关"),
    ]
    place = [
        (r["plan"].rsplit("/", 1)[1], r.get("number"), r["named"].rsplit("/", 1)[1])
        for r in rows(client, "plans-by-place?place=济南市")
    ]
    assert place == [  # 商河县 (370126) is within 济南市 (370100): its plan's title names it
        ("shandong-energy-2023-2025", "1", "370100"),
        ("shanghe-5293dc-2025-2027", None, "370126"),
        ("shanghe-5293dc-2025-2027", "2", "370100"),
        ("shanghe-5293dc-2025-2027", "2", "370126"),
    ]
    by_org = [
        (r["task"].split("/id/plan/", 1)[1])
        for r in rows(client, "tasks-by-organisation?org=山东大学&plan=shandong-energy-2023-2025")
    ]
    assert by_org == ["shandong-energy-2023-2025/task/2"]


def test_two_plans_side_by_side(client: TestClient) -> None:
    got = [
        (
            r["number"],
            r.get("leftTitle"),
            r.get("leftTargets"),
            r.get("leftInvestment"),
            r.get("rightTitle"),
            r.get("rightTargets"),
        )
        for r in rows(client, "plans-side-by-side?left=shandong-energy-2023-2025&right=plan-5b8642-2026-2028")
    ]
    assert got == [
        (
            "1",
            "聚力发展清洁能源,在能源转型上走在前列",
            "1",
            "800",
            "聚力培育绿色制造体系,在产业转型上走在前列",
            "1",
        ),
        ("2", "聚力推进节能降碳,在绿色发展上取得突破", "0", "200", "强化要素保障", "0"),
        ("3", None, None, None, "聚力推动能源结构调整,在低碳发展上取得突破", "1"),
    ]


def test_plan_queries_take_a_plan(client: TestClient) -> None:
    every = rows(client, "pillars")
    one = rows(client, "pillars?plan=shanghe-5293dc-2025-2027")
    assert len(every) == 8  # the pillars that declare their tasks: 潍坊's 二、强化要素保障 declares none
    assert [(r["number"], r["title"], r["projects"]) for r in one] == [
        ("1", "聚力发展现代农业,在乡村振兴上走在前列", "9"),
        ("2", "聚力改善人居环境,在宜居乡村上取得突破", "6"),
    ]
    totals = rows(client, "plan-totals?plan=shandong-energy-2023-2025")
    assert [(r["pillars"], r["tasks"], r["projects"], r["investment"]) for r in totals] == [
        ("2", "3", "60", "1000")
    ]
    assert rows(client, "plan-totals?plan=no-such-plan") == []


def test_the_home_page_lists_the_plans_and_each_plan_has_its_page(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    for slug in SLUGS.values():
        assert f'href="/plans/{slug}"' in home.text
    page = client.get("/plans/linyi-science-technology-innovation-2024-2026")
    assert page.status_code == 200
    assert "临沂市推动科技创新和产业升级三年行动计划(2024—2026年)" in page.text
    assert 'data-kind="task"><strong>4</strong>' in page.text
    assert "聚力建设创新平台,在科技创新上走在前列" in page.text and "聚力发展现代农业" not in page.text
    assert "<svg" in page.text
    assert client.get("/plans/no-such-plan").status_code == 404


def test_search_covers_every_plan_and_narrows_to_one(client: TestClient) -> None:
    every = client.get("/search", params={"q": "山东大学"})
    assert every.status_code == 200
    narrowed = rows(client, "search?q=孵化&plan=linyi-science-technology-innovation-2024-2026")
    assert {r["thing"] for r in narrowed} == {
        f"{BASE}id/plan/linyi-science-technology-innovation-2024-2026/task/2"
    }
    assert rows(client, "search?q=孵化&plan=shanghe-5293dc-2025-2027") == []
    page = client.get("/search", params={"q": "聚力", "plan": "shanghe-5293dc-2025-2027"})
    assert "/id/plan/shanghe-5293dc-2025-2027/pillar/1" in page.text
    assert "/id/plan/shandong-energy-2023-2025/pillar/1" not in page.text
