"""Machine-found entities in the graph (mapping/discover_rdf.py): typed apart from the catalogue's,
linked to their task with mentions and spans, validated by ontology/discovery-shapes.ttl, and leaving
the seed's graph as it was but for the new nodes."""

from __future__ import annotations

import warnings
from decimal import Decimal

import pytest
from rdflib import RDF, SKOS, Graph, Literal, URIRef

from mapping.graph import document_graph
from mapping.validate import ValidationResult, validate
from mapping.vocab import OA, ORG, PROV, Vocab
from tests import seed
from tests.conftest import TestClient

VOCAB = Vocab("http://example.org/plankg/")
PK = VOCAB.pk

# A fictional plan (written for this test): two tasks naming a university, a college, two projects in a
# list and a town, none of them catalogued; the name 临海大学 is broken across lines.
RAW = """临海市推进数字经济三年行动方案(2026—2028年)

为加快数字化转型,制定本方案。

一、聚力建设数字基础设施,在产业转型上走在前列
认真抓好2项重点工作,扎实推进总投资10亿元的5个重点项目,其中续建项目2个,总投资4亿元,计划2026年\
新开工项目2个,总投资4亿元,计划2027年、2028年开工的谋划储备项目1个,总投资2亿元。
(一)建设数据中心。支持临海
大学、东港理工学院建设实验室。
(二)推进产业园区。推进云港大数据产业园、南湖软件园等项目,在白沙镇建设。
"""


def _graph(raw: str = RAW, *, discover: bool = True) -> Graph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return document_graph(raw, "t.txt", VOCAB, discover=discover)


def _validate(graph: Graph) -> ValidationResult:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        return validate(graph, VOCAB)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return _graph()


def found(graph: Graph) -> dict[str, tuple[str, str, Decimal, URIRef]]:
    """name -> (IRI path after id/, class, confidence, method) of every machine-found entity."""
    out = {}
    for node in graph.subjects(RDF.type, PK.MachineFoundEntity):
        assert isinstance(node, URIRef)
        name = graph.value(node, SKOS.prefLabel)
        kinds = {c for c in graph.objects(node, RDF.type)} - {PK.MachineFoundEntity}
        (kind,) = kinds
        confidence = graph.value(node, PK.confidence)
        method = graph.value(node, PK.discoveryMethod)
        assert isinstance(confidence, Literal) and isinstance(method, URIRef)
        out[str(name)] = (
            str(node).removeprefix(VOCAB.base + "id/").split("/found/")[0],
            str(kind).removeprefix(str(PK)),
            confidence.toPython(),
            method,
        )
    return out


def test_found_entities_are_typed_apart(graph: Graph) -> None:
    method = VOCAB.term
    assert found(graph) == {
        "临海市": ("place", "FoundPlace", Decimal("0.72"), method("discoveryMethod/place-suffix")),
        "临海大学": ("org", "FoundOrganization", Decimal("0.86"), method("discoveryMethod/org-suffix")),
        "东港理工学院": ("org", "FoundOrganization", Decimal("0.76"), method("discoveryMethod/org-suffix")),
        "云港大数据产业园": (
            "project",
            "FoundProject",
            Decimal("0.72"),
            method("discoveryMethod/project-list"),
        ),
        "南湖软件园": ("project", "FoundProject", Decimal("0.72"), method("discoveryMethod/project-list")),
        "白沙镇": ("place", "FoundPlace", Decimal("0.64"), method("discoveryMethod/place-suffix")),
    }
    for node in graph.subjects(RDF.type, PK.MachineFoundEntity):
        types = set(graph.objects(node, RDF.type))
        assert not types & {ORG.Organization, PK.Institution, PK.Place, PK.Project}, node
        assert (node, PK.reviewStatus, VOCAB.term("reviewStatus/unreviewed")) in graph


def test_found_organisation_iri_mention_and_span(graph: Graph) -> None:
    start = RAW.index("临海\n大学")
    end = start + len("临海\n大学")
    node = URIRef(VOCAB.base + "id/org/found/f49a137c5b0c")  # sha256("临海大学")[:12]
    assert (node, PK.suggestedClass, PK.University) in graph
    mention = URIRef(f"{VOCAB.base}id/mention/found/org/f49a137c5b0c/{start}-{end}")
    span = VOCAB.span(start, end)
    assert (mention, RDF.type, PK.FoundMention) in graph
    assert (mention, OA.hasBody, node) in graph
    assert (mention, OA.hasTarget, span) in graph
    assert (mention, PROV.wasDerivedFrom, span) in graph
    assert (mention, PK.mentionIn, VOCAB.task(1)) in graph
    assert (mention, PK.confidence, Literal(Decimal("0.86"))) in graph
    assert (VOCAB.task(1), PK.mentions, node) in graph
    assert graph.value(URIRef(f"{span}/quote"), OA.exact) == Literal("临海\n大学")


def test_switched_off_nothing_is_found_and_nothing_else_changes(graph: Graph) -> None:
    off = _graph(discover=False)
    assert not list(off.subjects(RDF.type, PK.MachineFoundEntity))
    assert set(off) <= set(graph)


def test_found_entities_conform_to_the_shapes(graph: Graph) -> None:
    result = _validate(graph)
    assert (result.conforms, result.violations, result.warnings) == (True, 0, 0)


def _violations(graph: Graph) -> set[tuple[str, str]]:
    result = _validate(graph)
    return {
        (i.focus_node.strip("<>").rsplit("/", 1)[-1], i.source_shape.removeprefix("pksh:"))
        for i in result.results
    }


def test_shapes_catch_a_found_entity_without_confidence_or_with_a_catalogue_class(graph: Graph) -> None:
    node = URIRef(VOCAB.base + "id/org/found/f49a137c5b0c")
    bad = Graph()
    bad += graph
    bad.remove((node, PK.confidence, None))
    bad.add((node, RDF.type, PK.FoundPlace))
    assert _violations(bad) == {("f49a137c5b0c", "confidence"), ("f49a137c5b0c", "MachineFoundEntity")}
    mention = next(iter(graph.subjects(OA.hasBody, node)))
    bad = Graph()
    bad += graph
    bad.remove((VOCAB.task(1), PK.mentions, node))
    assert ("f49a137c5b0c", "MachineFoundEntity") not in _violations(bad)
    assert (str(mention).rsplit("/", 1)[-1], "FoundMention") in _violations(bad)


def test_the_seed_graph_gains_only_machine_found_nodes() -> None:
    """The seed with discovery on: every triple of the graph without it is kept, and what is added is
    about machine-found entities, their mentions and spans (the canned queries' answers are asserted
    in tests/test_canned.py over the build, which has discovery on)."""
    on, off = (document_graph(seed.raw(), seed.SEED.name, VOCAB, discover=flag) for flag in (True, False))
    assert set(off) <= set(on)
    added = set(on) - set(off)
    subjects = {str(s) for s, _, _ in added}
    assert all("/found/" in s or "/id/span/" in s or "/id/task/" in s for s in subjects), subjects
    assert {p for s, p, _ in added if "/id/task/" in str(s)} == {PK.mentions}
    assert len(set(on.subjects(RDF.type, PK.MachineFoundEntity))) == 12
    assert len(set(on.subjects(RDF.type, PK.FoundMention))) == 12


def test_a_found_entity_has_its_page(plan_client: TestClient) -> None:
    """The built seed serves its machine-found entities like any node: 种业集团 of task (二十八)."""
    r = plan_client.get("/id/org/found/3f9799f3ca38", follow_redirects=False)
    assert r.status_code == 303
    page = plan_client.get("/doc/id/org/found/3f9799f3ca38", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "种业集团" in page.text and "FoundOrganization" in page.text
    turtle = plan_client.get("/doc/id/org/found/3f9799f3ca38.ttl")
    g = Graph().parse(data=turtle.text, format="turtle")
    node = URIRef("http://127.0.0.1:8000/id/org/found/3f9799f3ca38")
    assert g.value(node, URIRef("http://127.0.0.1:8000/def/confidence")) == Literal(Decimal("0.81"))
