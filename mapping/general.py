"""The graph of a plan in the general official numbering (GB/T 9704: ``一、`` / ``(一)`` / ``1.`` / ``(1)``).

The plan is read by :mod:`mapping.outline`; its structure and citations are mapped by
:mod:`mapping.outline_rdf`; and from the text of every division — frame divisions too, where the
main targets of a plan usually stand — the same facts are read as from the tasks of the Jinan genre:

* mentions of the catalogued organisations and places (longest match on the normalised text, a place
  inside a named organisation not counted apart), in the division whose own text holds them — its
  text up to its first child — or in the plan for its title and preamble;
* targets and milestones (:func:`mapping.targets.extract_span_targets`), keyed by the division's path:
  ``{plan}/target/{path}-{k}``, ``pk:task`` the division.

The catalogues are corpus-wide; data written for one plan (English titles, named projects) applies to
that plan only (:meth:`mapping.entities.Catalogue.for_plan`), so a general plan has none of the Jinan
plan's.
"""

from __future__ import annotations

import logging

from rdflib import Graph, URIRef

from mapping.citations import extract_citations
from mapping.discover import Scope, load_rules, load_stoplist
from mapping.discover import discover as find_entities
from mapping.discover_rdf import found_graph
from mapping.entities import Catalogue, EntityKind, Mention, load_catalogue, name_matcher, scope_range
from mapping.entities_rdf import catalogue_graph, mention_node
from mapping.model import Span
from mapping.outline import read_outline
from mapping.outline_model import Division, Outline
from mapping.outline_rdf import citations_graph, division_iri, outline_graph
from mapping.targets import Target, extract_span_targets
from mapping.targets_rdf import targets_graph
from mapping.text import NormText, normalise
from mapping.vocab import Vocab

_log = logging.getLogger(__name__)


def own_span(division: Division, raw: str) -> Span:
    """The division's own text: from its marker up to its first child (all of it when it has none)."""
    end = division.children[0].span.start if division.children else division.span.end
    return Span(division.span.start, end, raw[division.span.start : end])


def path_key(path: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in path)


def general_graph(raw: str, source_name: str, vocab: Vocab, discover: bool = True) -> Graph:
    """The RDF graph of the plan text ``raw`` read as GB/T 9704 headings; ``vocab`` is the plan's.
    ``discover`` adds the machine-found entities of every division (:mod:`mapping.discover`)."""
    outline = read_outline(raw, source_name=source_name)
    norm = normalise(raw)
    graph = outline_graph(outline, vocab, raw)
    graph += citations_graph(extract_citations(raw, source_name=source_name, norm=norm), vocab, raw)
    catalogue, notices = load_catalogue().for_plan(outline.title)
    for notice in notices:
        _log.debug(notice)
    graph += catalogue_graph(catalogue, vocab)
    for context, mention in division_mentions(outline, raw, norm, catalogue, vocab):
        mention_node(graph, vocab, catalogue, mention, context, raw)
    targets = division_targets(outline, raw, norm)

    def task_iri(key: int | str) -> URIRef:
        return division_iri(vocab, tuple(int(n) for n in str(key).split(".")))

    graph += targets_graph(targets, vocab, source=raw, task_iri=task_iri)
    if discover:
        scopes = [Scope(context, span) for context, span in division_scopes(outline, raw, vocab)]
        found = find_entities(raw, scopes, catalogue=catalogue, rules=load_rules(), stoplist=load_stoplist())
        graph += found_graph(found, vocab, source=raw, context_iri=lambda context: context)
    return graph


def division_scopes(outline: Outline, raw: str, vocab: Vocab) -> list[tuple[URIRef, Span]]:
    """Where the plan's text is read for entities: its title and preamble (the plan's), and each
    division's own text (the division's)."""
    plan = vocab.plan()
    scopes: list[tuple[URIRef, Span]] = [(plan, outline.title_span), (plan, outline.preamble_span)]
    scopes += [(division_iri(vocab, d.path), own_span(d, raw)) for d in outline.walk()]
    return scopes


def division_targets(outline: Outline, raw: str, norm: NormText) -> list[Target]:
    """The targets read from every division's own text, keyed by its path."""
    found: list[Target] = []
    for division in outline.walk():
        own = own_span(division, raw)
        found.extend(extract_span_targets(norm, path_key(division.path), own.start, own.end))
    return found


def division_mentions(
    outline: Outline, raw: str, norm: NormText, catalogue: Catalogue, vocab: Vocab
) -> list[tuple[URIRef, Mention]]:
    """Each catalogued organisation and place the plan names, with the division (or the plan) it is in."""
    orgs = name_matcher(catalogue.organisations.values())
    places = name_matcher(catalogue.places.values())
    scopes: list[tuple[URIRef, Span]] = [
        (vocab.plan(), outline.title_span),
        (vocab.plan(), outline.preamble_span),
    ]
    scopes += [(division_iri(vocab, d.path), own_span(d, raw)) for d in outline.walk()]
    found: list[tuple[URIRef, Mention]] = []
    for context, span in scopes:
        lo, hi = scope_range(norm, span)
        text = norm.text[lo:hi]
        named = [(EntityKind.ORGANISATION, m) for m in orgs.find(text)]
        hits = list(named)
        for m in places.find(text):
            if not any(o[0] <= m[0] and m[1] <= o[1] for _, o in named):
                hits.append((EntityKind.PLACE, m))
        for kind, (i, j, key, name) in hits:
            found.append((context, Mention(kind, key, None, norm.span(lo + i, lo + j), name)))
    found.sort(key=lambda cm: (cm[1].span.start, cm[1].span.end, cm[1].kind.value, cm[1].key))
    return found
