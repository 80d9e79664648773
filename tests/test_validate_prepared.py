"""mapping.validate parses each SPARQL constraint once and reuses the parsed ontology and shapes: the
report is the one a plain pyshacl run over a plain rdflib graph gives, violations and warnings alike."""

from __future__ import annotations

from pyshacl import validate as shacl_validate
from rdflib import Graph
from rdflib.compare import isomorphic

from mapping.validate import _prepared, _PreparedQueryGraph, load_ontology, load_shapes, validate
from mapping.vocab import Vocab
from tests.test_rdf import BASE, sample_plan
from tests.test_shapes import graph_of, with_statistic

VOCAB = Vocab(BASE)


def plain_report(data: Graph) -> Graph:
    """What mapping.validate did before: a plain graph, the ontology and shapes parsed afresh."""
    mixed = Graph()
    mixed += data
    mixed += load_ontology(VOCAB)
    _, report, _ = shacl_validate(
        mixed, shacl_graph=load_shapes(VOCAB), inference="none", advanced=True, allow_warnings=True
    )
    assert isinstance(report, Graph)
    return report


def test_a_violating_plan_gets_the_same_report_as_a_plain_run() -> None:
    # continuing 4 -> 5: the count sum fails (a SPARQL constraint, run per focus node)
    data = graph_of(with_statistic(sample_plan(), 1, 1, count=5))
    result = validate(data, VOCAB)
    assert result.violations == 1 and result.warnings == 1
    assert f"Violation: <{BASE}id/pillar/1>" in result.report_text
    assert "[shape pksh:Pillar, sh:SPARQLConstraintComponent]" in result.report_text
    assert isomorphic(result.report_graph, plain_report(data))


def test_a_second_validation_in_the_process_gives_the_same_report() -> None:
    data = graph_of(sample_plan())
    first, second = validate(data, VOCAB), validate(data, VOCAB)
    assert first.report_text == second.report_text
    assert isomorphic(first.report_graph, second.report_graph)
    assert isomorphic(first.report_graph, plain_report(data))


def test_each_query_text_is_parsed_once() -> None:
    _prepared.cache_clear()
    graph = _PreparedQueryGraph()
    text = "SELECT ?s WHERE { ?s ?p ?o }"
    for _ in range(3):
        assert list(graph.query(text)) == []
    info = _prepared.cache_info()
    assert (info.misses, info.hits) == (1, 2)
