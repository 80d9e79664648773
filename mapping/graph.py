"""The whole graph of one plan document: parse, map to RDF, and (issue 3) the extracted facts."""

from __future__ import annotations

from rdflib import Graph

from mapping.parser import parse_plan
from mapping.rdf import plan_graph
from mapping.vocab import Vocab


def document_graph(raw: str, source_name: str, vocab: Vocab) -> Graph:
    """The RDF graph of the plan text ``raw`` (the file ``source_name`` under seeds/, as shipped).

    Raises ``mapping.errors.DocumentError`` with line and column when the text is not a plan.
    """
    plan = parse_plan(raw, source_name=source_name)
    graph: Graph = plan_graph(plan, vocab, source=raw)
    return graph
