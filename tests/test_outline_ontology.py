"""ontology/plankg.ttl: the terms of divisions and citations, tied to the enums of the typed model."""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, URIRef

from mapping.citations import Relation
from mapping.outline_model import NumberingStyle
from mapping.validate import load_ontology
from mapping.vocab import Vocab

BASE = "http://example.org/plankg/"
ELI = "http://data.europa.eu/eli/ontology#"


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return Vocab(BASE)


@pytest.fixture(scope="module")
def ontology(vocab: Vocab) -> Graph:
    return load_ontology(vocab)


def style_concept(vocab: Vocab, style: NumberingStyle) -> URIRef:
    head, *rest = style.value.split("-")
    return vocab.term("numberingStyle/" + head + "".join(word.title() for word in rest))


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("Division", ELI + "LegalResourceSubdivision"),
        ("ActionDivision", BASE + "def/Division"),
        ("FrameDivision", BASE + "def/Division"),
        ("CitedDocument", ELI + "LegalResource"),
        ("Citation", "http://www.w3.org/ns/oa#Annotation"),
        ("NumberingStyle", str(SKOS.Concept)),
    ],
)
def test_classes_are_declared_and_aligned(ontology: Graph, vocab: Vocab, name: str, parent: str) -> None:
    assert (vocab.pk[name], RDF.type, OWL.Class) in ontology
    assert (vocab.pk[name], RDFS.subClassOf, URIRef(parent)) in ontology


def test_action_and_frame_are_disjoint(ontology: Graph, vocab: Vocab) -> None:
    assert (vocab.pk.ActionDivision, OWL.disjointWith, vocab.pk.FrameDivision) in ontology


def test_every_numbering_style_is_a_concept_with_its_notation(ontology: Graph, vocab: Vocab) -> None:
    notations = {
        NumberingStyle.CHINESE_COMMA: "一、",
        NumberingStyle.CHINESE_PAREN: "(一)",
        NumberingStyle.ARABIC_POINT: "1.",
        NumberingStyle.ARABIC_PAREN: "(1)",
        NumberingStyle.CIRCLED: "①",
    }
    top = set(ontology.objects(vocab.pk.numberingStyles, SKOS.hasTopConcept))
    assert top == {style_concept(vocab, style) for style in NumberingStyle}
    for style, notation in notations.items():
        concept = style_concept(vocab, style)
        assert (concept, RDF.type, vocab.pk.NumberingStyle) in ontology
        assert (concept, SKOS.notation, Literal(notation)) in ontology


def test_the_citation_relations_are_eli_properties(ontology: Graph, vocab: Vocab) -> None:
    """Relation values name ELI properties: eli:cites, eli:based_on, eli:implements."""
    assert {ELI + r.value for r in Relation} == {ELI + "cites", ELI + "based_on", ELI + "implements"}
    definition = " ".join(str(o) for o in ontology.objects(vocab.pk.citationRelation, SKOS.definition))
    for relation in Relation:
        assert f"eli:{relation.value}" in definition


@pytest.mark.parametrize(
    ("name", "kind", "range_"),
    [
        ("level", OWL.DatatypeProperty, "http://www.w3.org/2001/XMLSchema#integer"),
        ("numberingStyle", OWL.ObjectProperty, BASE + "def/NumberingStyle"),
        ("documentNumber", OWL.DatatypeProperty, "http://www.w3.org/2001/XMLSchema#string"),
        ("documentYear", OWL.DatatypeProperty, "http://www.w3.org/2001/XMLSchema#gYear"),
        ("citingPlan", OWL.ObjectProperty, ELI + "LegalResource"),
        ("triggerSpan", OWL.ObjectProperty, "http://www.w3.org/ns/oa#SpecificResource"),
        ("matchingKey", OWL.DatatypeProperty, "http://www.w3.org/2001/XMLSchema#string"),
    ],
)
def test_properties_have_their_ranges(
    ontology: Graph, vocab: Vocab, name: str, kind: URIRef, range_: str
) -> None:
    assert (vocab.pk[name], RDF.type, kind) in ontology
    assert (vocab.pk[name], RDFS.range, URIRef(range_)) in ontology
