"""Citations between the plans of one corpus: a cited document that is in the corpus is that plan's node.

Each plan is mapped alone (and cached alone), so its citations name every cited document by a stub,
``{base}id/document/{hash of its matching key}`` (``mapping.outline_rdf.citations_graph``), and its plan
node carries its own ``pk:matchingKey`` (the normalised title with its period). Once every plan is
read, :func:`resolve` replaces each stub whose key is the key of another plan of the corpus by that
plan's IRI — in the citations (``oa:hasBody``) and in the plan's ``eli:cites`` / ``eli:based_on`` /
``eli:implements`` — and drops the stub's own description. Stubs no plan matches stay as described
stubs; a later build, with the cited text among the seeds, resolves them.

:func:`loops` finds plans that implement or are based on each other in a circle (A implements B
implements A): a warning naming, for each link, the file, line and column of the citation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from mapping.vocab import ELI, OA, Vocab

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_ORDERING = (str(ELI.implements), str(ELI.based_on))


@dataclass(frozen=True)
class Resolution:
    """Each plan's quads with the corpus's stubs replaced, and which stub became which plan."""

    quads: list[list[ox.Quad]]
    resolved: dict[str, str]  # stub IRI → plan IRI


def _v(term: object) -> str:
    """The IRI or lexical form of a term (a quoted triple as its N-Triples form)."""
    return term.value if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)) else str(term)


def _plan_keys(quads: Sequence[ox.Quad], pk: str) -> dict[str, str]:
    plans = {
        _v(q.subject) for q in quads if q.predicate == RDF_TYPE and q.object == ox.NamedNode(pk + "Plan")
    }
    key = ox.NamedNode(pk + "matchingKey")
    return {
        _v(q.subject): _v(q.object)
        for q in quads
        if q.predicate == key and _v(q.subject) in plans and isinstance(q.object, ox.Literal)
    }


def _stubs(quads: Sequence[ox.Quad], pk: str) -> dict[str, str]:
    stubs = {
        _v(q.subject)
        for q in quads
        if q.predicate == RDF_TYPE and q.object == ox.NamedNode(pk + "CitedDocument")
    }
    key = ox.NamedNode(pk + "matchingKey")
    return {
        _v(q.subject): _v(q.object)
        for q in quads
        if q.predicate == key and _v(q.subject) in stubs and isinstance(q.object, ox.Literal)
    }


def plan_keys(quads: Sequence[ox.Quad], vocab: Vocab) -> dict[str, str]:
    """The plans ``quads`` describe, to their matching keys."""
    return _plan_keys(quads, str(vocab.pk))


def stub_keys(quads: Sequence[ox.Quad], vocab: Vocab) -> dict[str, str]:
    """The cited-document stubs of ``quads``, to their matching keys."""
    return _stubs(quads, str(vocab.pk))


def swaps(own: Iterable[str], stubs: dict[str, str], by_key: dict[str, str]) -> dict[str, str]:
    """Which of one plan's stubs become which plan of the corpus (``by_key``: every plan's matching key
    to its IRI; ``own``: the plan's own IRIs, never cited as another)."""
    mine = set(own)
    return {stub: by_key[key] for stub, key in stubs.items() if key in by_key and by_key[key] not in mine}


def swapped(quads: Sequence[ox.Quad], swap: dict[str, str]) -> list[ox.Quad]:
    """One plan's quads with its stubs in ``swap`` replaced by the plans, their descriptions dropped."""
    kept: list[ox.Quad] = []
    for q in quads:
        if _v(q.subject) in swap:
            continue  # the stub's description: the plan describes itself
        if isinstance(q.object, ox.NamedNode) and _v(q.object) in swap:
            q = ox.Quad(q.subject, q.predicate, ox.NamedNode(swap[_v(q.object)]), q.graph_name)
        kept.append(q)
    return kept


def resolve(plans: Sequence[Sequence[ox.Quad]], vocab: Vocab) -> Resolution:
    """Replace, in every plan's quads, each stub whose matching key is another plan's by that plan."""
    by_key: dict[str, str] = {}
    for quads in plans:
        for plan, key in plan_keys(quads, vocab).items():
            by_key.setdefault(key, plan)
    resolved: dict[str, str] = {}
    out: list[list[ox.Quad]] = []
    for quads in plans:
        swap = swaps(plan_keys(quads, vocab), stub_keys(quads, vocab), by_key)
        resolved.update(swap)
        out.append(swapped(quads, swap))
    return Resolution(out, resolved)


@dataclass(frozen=True)
class Link:
    """Plan ``source`` implements (or is based on) plan ``target``, as the citation ``citation`` says,
    whose quote starts at code point ``start`` of the source plan's text."""

    source: str
    target: str
    citation: str
    start: int


def ordering_links(plans: Sequence[Sequence[ox.Quad]], vocab: Vocab) -> list[Link]:
    """Every ``implements`` / ``based_on`` citation from one plan of the corpus to another."""
    plan_iris = {
        _v(q.subject)
        for quads in plans
        for q in quads
        if q.predicate == RDF_TYPE and q.object == ox.NamedNode(str(vocab.pk) + "Plan")
    }
    found = [link for quads in plans for link in citation_links(quads, vocab)]
    return sorted((link for link in found if link.target in plan_iris), key=lambda link: link.citation)


def citation_links(quads: Sequence[ox.Quad], vocab: Vocab) -> list[Link]:
    """Every ``implements`` / ``based_on`` citation of one plan's quads (``ordering_links`` keeps
    those whose target is a plan of the corpus), by citation IRI."""
    pk = str(vocab.pk)
    values: dict[tuple[str, str], str] = {}
    citations: set[str] = set()
    for q in quads:
        if q.predicate == RDF_TYPE and q.object == ox.NamedNode(pk + "Citation"):
            citations.add(_v(q.subject))
        values.setdefault((_v(q.subject), q.predicate.value), _v(q.object))
    links = []
    for c in sorted(citations):
        relation = values.get((c, pk + "citationRelation"))
        body = values.get((c, str(OA.hasBody)))
        source = values.get((c, pk + "citingPlan"))
        span = values.get((c, str(OA.hasTarget)))
        if relation not in _ORDERING or body is None or source is None or span is None:
            continue
        start = values.get((span + "/position", str(OA.start)), "0")
        links.append(Link(source, body, c, int(start)))
    return links


def loops(links: Sequence[Link], where: Callable[[Link], str]) -> list[str]:
    """One message per circle of plans ordered by implements/based_on, each link located by ``where``."""
    graph: dict[str, list[Link]] = {}
    for link in links:
        graph.setdefault(link.source, []).append(link)
    found: list[str] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, node: str, path: list[Link]) -> None:
        for link in graph.get(node, []):
            if link.target == start:
                circle = [*path, link]
                members = frozenset(x.source for x in circle)
                if members not in seen:
                    seen.add(members)
                    found.append(
                        "citation loop: "
                        + " → ".join(f"{x.source} ({where(x)})" for x in circle)
                        + f" → {start}"
                    )
            elif link.target not in {x.source for x in path} and len(path) < len(graph):
                walk(start, link.target, [*path, link])

    for start in sorted(graph):
        walk(start, start, [])
    return found
