"""Map machine-found entities (:mod:`mapping.discover`) and their mentions to RDF (terms:
ontology/discovery.ttl).

* entities ``{base}id/{org,place,project}/found/{key}`` (key: :func:`mapping.discover.found_key`):
  ``pk:MachineFoundEntity`` and ``pk:FoundOrganization`` / ``pk:FoundPlace`` / ``pk:FoundProject``
  (not ``org:Organization``, ``pk:Place`` or ``pk:Project`` themselves, so that every query over the
  catalogued entities keeps its answers); the name as ``skos:prefLabel``/``rdfs:label`` @zh; every
  ``pk:discoveryMethod`` that found it, its highest ``pk:confidence``, ``pk:reviewStatus``
  ``pk:reviewStatus/unreviewed``, and for an organisation the ``pk:suggestedClass`` its suffix names;
* mentions ``{base}id/mention/found/{kind}/{key}/{start}-{end}``: ``pk:FoundMention`` Web Annotations
  like the catalogued ones (body the entity, target the span), with their own method and confidence;
  the context (task, plan, division) ``pk:mentions`` the entity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from rdflib import RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef

from mapping.discover import Found, discover, load_rules, load_stoplist, plan_scopes
from mapping.entities import Catalogue, EntityKind
from mapping.entities_rdf import ORG_CLASSES
from mapping.model import Plan
from mapping.rdf import add_span
from mapping.vocab import OA, PROV, Vocab

C = TypeVar("C")

FOUND_CLASSES = {
    EntityKind.ORGANISATION: "FoundOrganization",
    EntityKind.PLACE: "FoundPlace",
    EntityKind.PROJECT: "FoundProject",
}


def found_iri(vocab: Vocab, kind: EntityKind, key: str) -> URIRef:
    return vocab.thing(kind.value, "found", key)


def found_mention_iri(vocab: Vocab, found: Found[C]) -> URIRef:
    """A mention is part of its plan: ``{plan}/mention/found/{kind}/{key}/{start}-{end}``."""
    return vocab.part("mention", "found", found.kind.value, found.key, f"{found.span.start}-{found.span.end}")


def found_graph(
    found: Sequence[Found[C]], vocab: Vocab, *, source: str, context_iri: Callable[[C], URIRef]
) -> Graph:
    """The RDF of the machine-found mentions ``found`` in the text ``source``; ``context_iri`` gives
    the IRI of the task, plan or division a mention's context stands for."""
    g = Graph()
    for prefix, namespace in vocab.prefixes().items():
        g.bind(prefix, namespace, override=True)
    pk = vocab.pk
    best: dict[URIRef, Literal] = {}
    for f in found:
        entity = found_iri(vocab, f.kind, f.key)
        method = vocab.term(f"discoveryMethod/{f.method}")
        confidence = Literal(f.confidence, datatype=XSD.decimal)
        g.add((entity, RDF.type, pk.MachineFoundEntity))
        g.add((entity, RDF.type, pk[FOUND_CLASSES[f.kind]]))
        for predicate in (SKOS.prefLabel, RDFS.label):
            g.add((entity, predicate, Literal(f.name, lang="zh")))
        g.add((entity, pk.discoveryMethod, method))
        g.add((entity, pk.reviewStatus, vocab.term("reviewStatus/unreviewed")))
        if f.org_type is not None:
            g.add((entity, pk.suggestedClass, pk[ORG_CLASSES[f.org_type]]))
        if entity not in best or f.confidence > best[entity].toPython():
            best[entity] = confidence
        node = found_mention_iri(vocab, f)
        span = add_span(g, vocab, f.span, source)
        context = context_iri(f.context)
        g.add((node, RDF.type, pk.FoundMention))
        g.add((node, RDF.type, OA.Annotation))
        g.add((node, OA.motivatedBy, OA.identifying))
        g.add((node, OA.hasBody, entity))
        g.add((node, OA.hasTarget, span))
        g.add((node, PROV.wasDerivedFrom, span))
        g.add((node, pk.mentionIn, context))
        g.add((node, pk.discoveryMethod, method))
        g.add((node, pk.confidence, confidence))
        g.add((context, pk.mentions, entity))
    for entity, confidence in best.items():
        g.add((entity, pk.confidence, confidence))
    return g


def discovered_graph(plan: Plan, raw: str, catalogue: Catalogue, vocab: Vocab) -> Graph:
    """The machine-found entities of ``plan`` (parsed from ``raw``) that ``catalogue`` does not name,
    by the rules and stop list of ``mapping/data/``; mentions in a task belong to the task, those in
    the title and preamble to the plan."""
    found = discover(
        raw, plan_scopes(plan), catalogue=catalogue, rules=load_rules(), stoplist=load_stoplist()
    )

    def context(task: int | None) -> URIRef:
        return vocab.plan() if task is None else vocab.task(task)

    return found_graph(found, vocab, source=raw, context_iri=context)
