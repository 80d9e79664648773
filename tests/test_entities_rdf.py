"""The entities graph: organisations, places, projects, mentions with spans, English labels, SHACL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, BNode, Graph, Literal, URIRef

from mapping.entities import Catalogue, CatalogueError, EnglishLabel, Mention
from mapping.entities_rdf import entities_graph, mention_iri
from mapping.model import Plan
from mapping.parser import parse_plan
from mapping.rdf import plan_graph
from mapping.validate import load_ontology, validate
from mapping.vocab import OA, ORG, Vocab

SEED = Path(__file__).resolve().parent.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
VOCAB = Vocab("http://example.org/plankg/")


@pytest.fixture(scope="module")
def graph(plan: Plan, raw: str, catalogue: Catalogue, mentions: tuple[Mention, ...]) -> Graph:
    return entities_graph(plan, mentions, catalogue, VOCAB, source=raw)


@pytest.fixture(scope="module")
def full(plan: Plan, raw: str, graph: Graph) -> Graph:
    g = plan_graph(plan, VOCAB, source=raw)
    g += graph
    return g


def org(key: str) -> URIRef:
    return VOCAB.thing("org", key)


def literal(node: object) -> Literal:
    assert isinstance(node, Literal), node
    return node


def _task_numbers(g: Graph, query: str) -> list[int]:
    return [int(literal(row[0])) for row in g.query(query, base=VOCAB.base)]  # type: ignore[index]


def test_tasks_involving_shandong_university_by_sparql(full: Graph) -> None:
    query = """
        PREFIX pk: <def/>
        PREFIX org: <http://www.w3.org/ns/org#>
        SELECT DISTINCT ?n WHERE {
            ?task a pk:Task ; pk:numberValue ?n ; pk:mentions ?o .
            ?o org:subOrganizationOf* <id/org/shandong-university> .
        } ORDER BY ?n
    """
    assert _task_numbers(full, query) == [1, 43, 44]


def test_only_direct_mentions_without_the_hierarchy(full: Graph) -> None:
    query = """
        PREFIX pk: <def/>
        SELECT ?n WHERE { ?task pk:numberValue ?n ; pk:mentions <id/org/shandong-university> . }
    """
    assert _task_numbers(full, query) == []


def test_tasks_within_jinan_by_sparql(full: Graph) -> None:
    query = """
        PREFIX pk: <def/>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT DISTINCT ?n WHERE {
            ?task a pk:Task ; pk:numberValue ?n ; pk:mentions ?p .
            ?p skos:broader* <id/place/370100> .
        } ORDER BY ?n
    """
    assert _task_numbers(full, query) == [17, 23, 24, 25, 27, 30, 34, 35, 36, 40, 42]


def test_no_blank_nodes(graph: Graph) -> None:
    for triple in graph:
        assert not any(isinstance(term, BNode) for term in triple), triple


def test_organisation_node(graph: Graph) -> None:
    node = org("qilu-hospital-of-shandong-university")
    assert (node, RDF.type, ORG.Organization) in graph
    assert (node, RDF.type, VOCAB.pk.Institution) in graph
    assert (node, RDF.type, VOCAB.pk.Hospital) in graph
    assert (node, ORG.subOrganizationOf, org("shandong-university")) in graph
    assert set(graph.objects(node, SKOS.prefLabel)) == {
        Literal("山东大学齐鲁医院", lang="zh"),
        Literal("Qilu Hospital of Shandong University", lang="en"),
    }
    cas = org("chinese-academy-of-sciences")
    assert set(graph.objects(cas, SKOS.altLabel)) == {Literal("中科院", lang="zh")}
    assert (org("ministry-of-science-and-technology"), ORG.subOrganizationOf, org("state-council")) in graph


def test_places_codes_and_hierarchy(graph: Graph) -> None:
    zhangqiu = VOCAB.thing("place", "370114")
    jinan = VOCAB.thing("place", "370100")
    shandong = VOCAB.thing("place", "370000")
    assert (zhangqiu, SKOS.notation, Literal("370114")) in graph
    assert (zhangqiu, SKOS.broader, jinan) in graph
    assert (jinan, SKOS.broader, shandong) in graph
    assert (zhangqiu, RDF.type, VOCAB.pk.AdministrativeDivision) in graph
    region = VOCAB.thing("region", "beijing-tianjin-hebei")
    assert (region, RDF.type, VOCAB.pk.Region) in graph
    assert not list(graph.objects(region, SKOS.notation))
    # Links to Wikidata come from linksets/ at build time (tests/test_linksets.py), not from the catalogue.
    assert not list(graph.subject_objects(SKOS.exactMatch))


def test_project_node(graph: Graph) -> None:
    node = VOCAB.thing("project", "spic-yellow-river-hydrogen-industry-base")
    assert (node, RDF.type, VOCAB.pk.Project) in graph
    assert (node, VOCAB.pk.inTask, VOCAB.task(18)) in graph
    assert (node, VOCAB.pk.involves, org("state-power-investment-corporation")) in graph
    assert (node, VOCAB.pk.place, VOCAB.thing("region", "yellow-river-basin")) in graph
    rail = VOCAB.thing("project", "laiwu-linyi-high-speed-railway")
    assert set(graph.objects(rail, VOCAB.pk.place)) == {
        VOCAB.thing("place", "370116"),
        VOCAB.thing("place", "371300"),
    }


def test_mentions_carry_exact_spans(graph: Graph, mentions: tuple[Mention, ...], raw: str) -> None:
    assert len(set(graph.subjects(RDF.type, VOCAB.pk.Mention))) == len(mentions)
    for m in mentions:
        node = mention_iri(VOCAB, m)
        span = VOCAB.span(m.span.start, m.span.end)
        assert (node, OA.hasTarget, span) in graph
        assert (span, RDF.type, OA.SpecificResource) in graph
        exact = graph.value(URIRef(f"{span}/quote"), OA.exact)
        assert exact == Literal(raw[m.span.start : m.span.end])
        start = graph.value(URIRef(f"{span}/position"), OA.start)
        end = graph.value(URIRef(f"{span}/position"), OA.end)
        assert (int(literal(start)), int(literal(end))) == (m.span.start, m.span.end)
        context = VOCAB.plan() if m.task is None else VOCAB.task(m.task)
        assert (node, VOCAB.pk.mentionIn, context) in graph
        assert graph.value(node, OA.hasBody) is not None
        assert (context, VOCAB.pk.mentions, graph.value(node, OA.hasBody)) in graph


def test_english_labels(graph: Graph, plan: Plan) -> None:
    for pillar in plan.pillars:
        labels = {literal(lit).language for lit in graph.objects(VOCAB.pillar(pillar.number), RDFS.label)}
        assert labels == {"en"}
    assert Literal("(1) Build high-level innovation platforms", lang="en") in set(
        graph.objects(VOCAB.task(1), RDFS.label)
    )
    for task in plan.tasks:
        assert len(list(graph.objects(VOCAB.task(task.number), RDFS.label))) == 1


def test_label_for_another_title_is_refused(
    plan: Plan, raw: str, catalogue: Catalogue, mentions: tuple[Mention, ...]
) -> None:
    labels = dict(catalogue.task_labels)
    labels[2] = EnglishLabel(zh=catalogue.task_labels[3].zh, en=catalogue.task_labels[3].en)
    wrong = replace(catalogue, task_labels=labels)
    with pytest.raises(CatalogueError, match=r"labels_en.toml: task.2: translates"):
        entities_graph(plan, mentions, wrong, VOCAB, source=raw)


def test_every_term_in_our_namespace_is_defined(graph: Graph) -> None:
    ontology = load_ontology(VOCAB)
    ours = str(VOCAB.pk)
    used = {t for triple in graph for t in triple if isinstance(t, URIRef) and str(t).startswith(ours)}
    assert used
    for term in used:
        labels = {literal(lit).language for lit in ontology.objects(term, RDFS.label)}
        assert {"zh", "en"} <= labels, term
        definitions = {literal(lit).language for lit in ontology.objects(term, SKOS.definition)}
        assert {"zh", "en"} <= definitions, term


def test_ontology_files_are_relative_to_the_base() -> None:
    for name in ("entities.ttl", "entities-shapes.ttl"):
        text = (SEED.parent.parent / "ontology" / name).read_text(encoding="utf-8")
        assert not any(line.lstrip().startswith("@base") for line in text.splitlines())
        assert "@prefix pk: <def/> ." in text
        assert "127.0.0.1" not in text


# pyshacl compares rdflib literals (the plan period's gYears) in a way rdflib 7.6 deprecates.
IGNORE_PYSHACL_DEPRECATION = (
    "ignore:NotImplemented should not be used in a boolean context:DeprecationWarning"
)


@pytest.mark.filterwarnings(IGNORE_PYSHACL_DEPRECATION)
def test_shapes_accept_the_graph(full: Graph) -> None:
    result = validate(full, VOCAB)
    assert result.violations == 0, result.report_text


@pytest.mark.filterwarnings(IGNORE_PYSHACL_DEPRECATION)
def test_shapes_catch_broken_entities(full: Graph) -> None:
    g = Graph()
    g += full
    project = VOCAB.thing("project", "taiping-reservoir")
    g.remove((project, VOCAB.pk.inTask, None))
    region = VOCAB.thing("region", "yangtze-river-delta")
    g.add((region, SKOS.notation, Literal("320000")))
    zhangqiu = VOCAB.thing("place", "370114")
    g.remove((zhangqiu, SKOS.broader, None))
    g.add((zhangqiu, SKOS.broader, VOCAB.thing("place", "371300")))  # 370114 is not within 371300
    cas = org("chinese-academy-of-sciences")
    g.remove((cas, SKOS.prefLabel, Literal("中国科学院", lang="zh")))
    university = org("shandong-university")
    g.add((university, ORG.subOrganizationOf, org("qilu-hospital-of-shandong-university")))
    mention = next(iter(g.subjects(RDF.type, VOCAB.pk.Mention)))
    g.remove((g.value(mention, VOCAB.pk.mentionIn), VOCAB.pk.mentions, g.value(mention, OA.hasBody)))
    result = validate(g, VOCAB)
    shape = VOCAB.base + "def/shape/"
    failed = {
        (row[0], str(row[1]).removeprefix(shape))  # type: ignore[index]
        for row in result.report_graph.query(
            """
            PREFIX sh: <http://www.w3.org/ns/shacl#>
            SELECT ?focus ?shape WHERE {
                ?r a sh:ValidationResult ; sh:resultSeverity sh:Violation ;
                   sh:focusNode ?focus ; sh:sourceShape ?shape .
            }
            """
        )
    }
    assert {
        (project, "Project-inTask"),
        (region, "Region-noCode"),
        (zhangqiu, "AdministrativeDivision"),
        (cas, "entityPrefLabels"),
        (university, "Organisation"),
        (mention, "Mention"),
    } <= failed, result.report_text


def test_a_text_cut_before_a_projects_task_builds_without_that_project(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    from mapping.graph import document_graph

    vocab = VOCAB

    (task44,) = [t for t in parse_plan(raw, source_name=SEED.name).tasks if t.number == 44]
    cut = raw[: task44.span.start]
    with caplog.at_level("WARNING", logger="mapping.entities_rdf"):
        graph = document_graph(cut, SEED.name, vocab)
    project = vocab.thing("project", "qilu-hospital-national-medical-center")
    assert (project, None, None) not in graph and (None, None, project) not in graph
    assert any(
        "qilu-hospital-national-medical-center" in r.getMessage() and "no task 44" in r.getMessage()
        for r in caplog.records
    )
    # A project of a task the text still has is there.
    assert any(graph.subjects(RDF.type, vocab.pk.Project))
    result = validate(graph, vocab)
    assert result.violations == 0, result.report_text
