"""The whole graph of one plan document: the plan's structure and statistics, and the facts read
from it (issue 3: the curated organisations, places and named projects with their mentions, and the
targets of the tasks)."""

from __future__ import annotations

import logging

from rdflib import Graph

from mapping.discover_rdf import discovered_graph
from mapping.entities import find_mentions, load_catalogue
from mapping.entities_rdf import entities_graph
from mapping.parser import parse_plan
from mapping.rdf import plan_graph
from mapping.targets import extract_targets
from mapping.targets_rdf import targets_graph
from mapping.vocab import Vocab

_log = logging.getLogger(__name__)


def document_graph(raw: str, source_name: str, vocab: Vocab, *, discover: bool = True) -> Graph:
    """The RDF graph of the plan text ``raw`` (the file ``source_name`` under seeds/, as shipped).

    Raises ``mapping.errors.DocumentError`` with line and column when the text is not a plan, and
    ``mapping.entities.CatalogueError`` when the curated entity data is inconsistent. English labels and
    named projects curated for another plan are left out, with a logged warning for each.
    ``discover`` (on by default, for every plan) adds the machine-found entities the catalogue does not
    name (:mod:`mapping.discover_rdf`), in classes of their own.
    """
    plan = parse_plan(raw, source_name=source_name)
    graph: Graph = plan_graph(plan, vocab, source=raw)
    catalogue, notices = load_catalogue().for_plan(plan.title)
    for notice in notices:  # curated data written for another plan: left out, the build goes on
        _log.warning(notice)
    mentions = find_mentions(plan, raw, catalogue)
    graph += entities_graph(plan, mentions, catalogue, vocab, source=raw)
    if discover:
        graph += discovered_graph(plan, raw, catalogue, vocab)
    graph += targets_graph(extract_targets(plan, raw), vocab, source=raw)
    return graph
