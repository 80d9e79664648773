"""A plan read as GB/T 9704 headings (``mapping.outline``) and its citations (``mapping.citations``) as RDF.

* the plan: ``pk:Plan``, ``eli:LegalResource``, title, preamble, period, ``eli:has_part`` its top
  divisions, and ``eli:cites`` / ``eli:based_on`` / ``eli:implements`` each document it cites;
* every division: ``pk:Division`` (``eli:LegalResourceSubdivision``) and ``pk:ActionDivision`` or
  ``pk:FrameDivision``, its number as printed (``eli:number``) and as a value, its position in its
  parent, ``pk:level``, ``pk:numberingStyle``, title (with its span), lead, full text,
  ``eli:is_part_of`` its parent (a division, or the plan) and ``eli:has_part`` its children;
* every citation: ``pk:Citation`` (a Web Annotation, motivation ``oa:linking``) whose body is the cited
  document and whose target is the quote span, with the citing plan, the relation and the span of
  the word that set it (根据, 落实 …);
* a cited document that is not in the corpus: ``pk:CitedDocument``, with the title and document number
  as quoted and the key it is matched on (a later build resolves it when its text arrives).

IRIs: divisions ``{plan}/division/{path}`` (``2.1.3``), citations ``{plan}/citation/{k}``, a document
known only from citations ``{base}id/document/{hash of its matching key}`` (corpus-wide).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS

from mapping.citations import Citation, Relation, title_key
from mapping.model import Span
from mapping.outline_model import NumberingStyle, Outline, Role
from mapping.rdf import add_span, source_node
from mapping.vocab import ELI, OA, PROV, Vocab

LANGUAGE_ZH = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")
_STYLE_TERMS = {
    NumberingStyle.CHINESE_COMMA: "chineseComma",
    NumberingStyle.CHINESE_PAREN: "chineseParen",
    NumberingStyle.ARABIC_POINT: "arabicPoint",
    NumberingStyle.ARABIC_PAREN: "arabicParen",
    NumberingStyle.CIRCLED: "circled",
}
RELATIONS = {Relation.CITES: ELI.cites, Relation.BASED_ON: ELI.based_on, Relation.IMPLEMENTS: ELI.implements}


def division_iri(vocab: Vocab, path: tuple[int, ...]) -> URIRef:
    """``{plan}/division/{path}``, the orders from the top joined by dots: ``…/division/2.1.3``."""
    return vocab.part("division", ".".join(str(n) for n in path))


def citation_iri(vocab: Vocab, k: int) -> URIRef:
    """The plan's ``k``-th citation (1-based, in text order)."""
    return vocab.part("citation", k)


def cited_document_iri(vocab: Vocab, key: str) -> URIRef:
    """A document known only from citations, corpus-wide: ``{base}id/document/{h}``, ``h`` the first 16
    hex digits of the SHA-256 of its matching key, so every plan citing it names the same node."""
    return vocab.thing("document", hashlib.sha256(key.encode("utf-8")).hexdigest()[:16])


def outline_graph(outline: Outline, vocab: Vocab, raw: str) -> Graph:
    """The plan (its node, the source text) and its divisions as a graph; ``vocab`` is the plan's."""
    g = Graph()
    pk = vocab.pk

    def span(graph: Graph, s: Span) -> URIRef:
        return add_span(graph, vocab, s, raw)

    def zh(text: str) -> Literal:
        return Literal(text, lang="zh")

    def integer(value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    plan = vocab.plan()
    source_node(g, vocab, outline.source_name, outline.source_sha256, outline.source_length)
    g.add((plan, RDF.type, pk.Plan))
    g.add((plan, RDF.type, ELI.LegalResource))
    g.add((plan, ELI.title, zh(outline.title)))
    g.add((plan, RDFS.label, zh(outline.title)))
    g.add((plan, ELI.language, LANGUAGE_ZH))
    g.add((plan, pk.matchingKey, Literal(title_key(outline.title))))
    g.add((plan, pk.titleSpan, span(g, outline.title_span)))
    g.add((plan, PROV.wasDerivedFrom, span(g, outline.title_span)))
    if outline.preamble:
        g.add((plan, pk.preamble, zh(outline.preamble)))
        g.add((plan, pk.preambleSpan, span(g, outline.preamble_span)))
    if outline.period is not None and outline.period_span is not None:
        first, last = outline.period
        period = vocab.period(first, last)
        g.add((plan, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        g.add((period, RDFS.label, zh(outline.period_span.quote)))
        g.add((period, DCAT.startDate, Literal(f"{first:04d}", datatype=XSD.gYear)))
        g.add((period, DCAT.endDate, Literal(f"{last:04d}", datatype=XSD.gYear)))
        g.add((period, PROV.wasDerivedFrom, span(g, outline.period_span)))
    for top in outline.divisions:
        g.add((plan, ELI.has_part, division_iri(vocab, top.path)))

    for division in outline.walk():
        node = division_iri(vocab, division.path)
        parent = division_iri(vocab, division.parent) if division.parent else plan
        g.add((node, RDF.type, pk.Division))
        g.add((node, RDF.type, ELI.LegalResourceSubdivision))
        g.add((node, RDF.type, pk.ActionDivision if division.role is Role.ACTION else pk.FrameDivision))
        g.add((node, ELI.number, Literal(division.numeral)))
        g.add((node, pk.numberValue, integer(division.number)))
        g.add((node, pk.position, integer(division.order)))
        g.add((node, pk.level, integer(division.level)))
        g.add((node, pk.numberingStyle, vocab.term(f"numberingStyle/{_STYLE_TERMS[division.style]}")))
        g.add((node, ELI.title, zh(division.title)))
        g.add((node, RDFS.label, zh(f"{division.marker}{division.title}")))
        g.add((node, pk.titleSpan, span(g, division.title_span)))
        if division.lead:
            g.add((node, pk.lead, zh(division.lead)))
        g.add((node, pk.text, zh(division.text)))
        g.add((node, ELI.is_part_of, parent))
        for child in division.children:
            g.add((node, ELI.has_part, division_iri(vocab, child.path)))
        g.add((node, PROV.wasDerivedFrom, span(g, division.span)))

    return g


def citations_graph(citations: Sequence[Citation], vocab: Vocab, raw: str) -> Graph:
    """Each citation of the plan (``vocab``'s) with the document it cites, as a stub keyed by its
    matching key: :func:`mapping.crossrefs.resolve` makes a stub that names a plan of the corpus that
    plan's node."""
    g = Graph()
    pk, plan = vocab.pk, vocab.plan()
    for k, citation in enumerate(citations, start=1):
        node = citation_iri(vocab, k)
        doc = cited_document_iri(vocab, citation.key)
        relation = RELATIONS[citation.relation]
        quote = add_span(g, vocab, citation.span, raw)
        g.add((node, RDF.type, pk.Citation))
        g.add((node, RDF.type, OA.Annotation))
        g.add((node, OA.motivatedBy, OA.linking))
        g.add((node, OA.hasBody, doc))
        g.add((node, OA.hasTarget, quote))
        g.add((node, PROV.wasDerivedFrom, quote))
        g.add((node, pk.citingPlan, plan))
        g.add((node, pk.citationRelation, relation))
        if citation.trigger_span is not None:
            g.add((node, pk.triggerSpan, add_span(g, vocab, citation.trigger_span, raw)))
        g.add((plan, relation, doc))
        g.add((doc, RDF.type, pk.CitedDocument))
        g.add((doc, RDF.type, ELI.LegalResource))
        g.add((doc, pk.matchingKey, Literal(citation.key)))
        if citation.title:
            g.add((doc, ELI.title, Literal(citation.title, lang="zh")))
            g.add((doc, RDFS.label, Literal(f"《{citation.title}》", lang="zh")))
        elif citation.number is not None:
            g.add((doc, RDFS.label, Literal(citation.number.key, lang="zh")))
        if citation.number is not None:
            number = citation.number
            g.add((doc, pk.documentNumber, Literal(number.key)))
            g.add((doc, pk.issuerCode, Literal(number.issuer)))
            g.add((doc, pk.documentYear, Literal(f"{number.year:04d}", datatype=XSD.gYear)))
            g.add((doc, pk.serialNumber, Literal(number.serial, datatype=XSD.integer)))
    return g
