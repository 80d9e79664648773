"""The whole graph of one plan document, by the shape of the document.

A plan's text is read by the reader of its shape (:data:`SHAPES`, tried in order; the first that
recognises the text reads it):

* ``pillars-and-tasks`` (the Jinan genre): pillars ``一、`` opening with a key-project statistics
  paragraph, tasks ``(一)`` numbered across the pillars (:mod:`mapping.parser`); the graph is the plan's
  structure and statistics and the facts read from it (issue 3: the curated organisations, places and
  named projects with their mentions, and the targets of the tasks).

* ``general``: the general official numbering of GB/T 9704 (parts ``一、``, sections ``(一)`` restarting
  in each part or running across, items ``1.``, sub-items ``(1)``, at any depth), read by
  :mod:`mapping.outline` and mapped by :mod:`mapping.general`.

Both shapes also map the plan's citations (``《…》`` titles, document numbers: :mod:`mapping.citations`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph, Literal

from mapping.citations import extract_citations, title_key
from mapping.discover_rdf import discovered_graph
from mapping.entities import find_mentions, load_catalogue
from mapping.entities_rdf import entities_graph
from mapping.errors import DocumentError, Location
from mapping.general import general_graph
from mapping.model import Plan
from mapping.outline import read_outline
from mapping.outline_model import Shape as OutlineShape
from mapping.outline_rdf import citations_graph
from mapping.parser import parse_plan
from mapping.rdf import plan_graph
from mapping.targets import extract_targets
from mapping.targets_rdf import targets_graph
from mapping.vocab import Vocab

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Heading:
    """What the build needs of a plan before mapping it: its title (for the slug)."""

    title: str


@dataclass(frozen=True)
class Shape:
    """A layout of plan documents: whether a text has it, its title, and its graph."""

    name: str
    recognises: Callable[[str, str], bool]  # (raw text, source name)
    heading: Callable[[str, str], Heading]
    graph: Callable[[str, str, Vocab, bool], Graph]  # (raw text, source name, vocab, discover)


def pillars_and_tasks(raw: str, source_name: str) -> Plan:
    """The Jinan genre's model of ``raw``; a repeated task number is a DocumentError at its marker."""
    plan = parse_plan(raw, source_name=source_name)
    seen: dict[int, int] = {}
    for task in plan.tasks:
        if task.number in seen:
            raise DocumentError(
                f"task ({task.numeral}) of pillar {task.pillar} repeats the number of a task of pillar "
                f"{seen[task.number]}: the tasks of this genre are numbered across the pillars (sections "
                "that restart in every part are the general official numbering, read by mapping.outline)",
                Location.at(source_name, raw, task.span.start),
            )
        seen[task.number] = task.pillar
    return plan


def document_graph(raw: str, source_name: str, vocab: Vocab, *, discover: bool = True) -> Graph:
    """The RDF graph of the plan text ``raw`` (the file ``source_name`` under seeds/, as shipped), read
    by the first shape of :data:`SHAPES` that recognises it.

    Raises ``mapping.errors.DocumentError`` with line and column when the text is not a plan, and
    ``mapping.entities.CatalogueError`` when the curated entity data is inconsistent. English labels and
    named projects curated for another plan are left out, with a logged warning for each.
    ``discover`` (on by default, for every plan) adds the machine-found entities the catalogue does not
    name (:mod:`mapping.discover_rdf`), in classes of their own.
    """
    return shape_of(raw, source_name).graph(raw, source_name, vocab, discover)


def plan_heading(raw: str, source_name: str) -> Heading:
    """The title of the plan text ``raw`` (its shape's reading)."""
    return shape_of(raw, source_name).heading(raw, source_name)


def shape_of(raw: str, source_name: str) -> Shape:
    for shape in SHAPES:
        if shape.recognises(raw, source_name):
            return shape
    return SHAPES[-1]  # the last shape reads anything, raising a DocumentError at what it cannot read


def _pillars_and_tasks_graph(raw: str, source_name: str, vocab: Vocab, discover: bool) -> Graph:
    plan = pillars_and_tasks(raw, source_name)
    graph: Graph = plan_graph(plan, vocab, source=raw)
    catalogue, notices = load_catalogue().for_plan(plan.title)
    for notice in notices:  # curated data written for another plan: left out, the build goes on
        _log.warning(notice)
    mentions = find_mentions(plan, raw, catalogue)
    graph += entities_graph(plan, mentions, catalogue, vocab, source=raw)
    if discover:
        graph += discovered_graph(plan, raw, catalogue, vocab)
    graph += targets_graph(extract_targets(plan, raw), vocab, source=raw)
    graph += citations_graph(extract_citations(raw, source_name=source_name), vocab, raw)
    graph.add((vocab.plan(), vocab.pk.matchingKey, Literal(title_key(plan.title))))
    return graph


def _general(raw: str, source_name: str) -> bool:
    """A text in the general official numbering: the outline reader reads it and finds no Jinan shape;
    or neither reader reads it, and the outline reader's error (a numbering gap, a repeated number …)
    is the one that says where."""
    try:
        return read_outline(raw, source_name=source_name).shape is OutlineShape.GENERAL
    except DocumentError:
        try:
            pillars_and_tasks(raw, source_name)
        except DocumentError:
            return True
        return False


GENERAL = Shape(
    "general",
    recognises=_general,
    heading=lambda raw, name: Heading(read_outline(raw, source_name=name).title),
    graph=general_graph,
)

PILLARS_AND_TASKS = Shape(
    "pillars-and-tasks",
    recognises=lambda raw, name: True,
    heading=lambda raw, name: Heading(pillars_and_tasks(raw, name).title),
    graph=_pillars_and_tasks_graph,
)

# The readers, most specific first; the last one reads what no other recognised (and its errors are
# the errors of a text that is not a plan).
SHAPES: list[Shape] = [GENERAL, PILLARS_AND_TASKS]
