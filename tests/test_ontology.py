"""ontology/*.ttl: parses with any base; every term the mapping emits in our namespace is defined."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, Literal, Node, URIRef

from mapping import parser
from mapping.validate import ONTOLOGY_DIR, load_ontology, load_shapes, ontology_files, shapes_files
from mapping.vocab import QB, QUDT, Vocab
from tests.test_rdf import BASE, SEED, sample_graph

REUSED = (
    "http://data.europa.eu/eli/ontology#",
    "http://purl.org/linked-data/cube#",
    "http://www.w3.org/ns/org#",
    "http://www.w3.org/2004/02/skos/core#",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/ns/oa#",
)


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return Vocab(BASE)


@pytest.fixture(scope="module")
def ontology(vocab: Vocab) -> Graph:
    return load_ontology(vocab)


def test_the_files_are_split_into_ontology_and_shapes() -> None:
    assert ONTOLOGY_DIR / "plankg.ttl" in ontology_files()
    assert ONTOLOGY_DIR / "shapes.ttl" in shapes_files()
    assert not set(ontology_files()) & set(shapes_files())


def test_every_file_parses_without_a_base_of_its_own(vocab: Vocab) -> None:
    for path in ontology_files() + shapes_files():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(@base|BASE)\b", text, re.MULTILINE | re.IGNORECASE), path
        graph = Graph().parse(path, format="turtle", publicID=vocab.base)
        assert len(graph) > 0, path


def test_relative_iris_follow_the_configured_base() -> None:
    other = Vocab("http://elsewhere.example/plans/")
    graph = load_ontology(other)
    assert (other.pk.Plan, RDF.type, OWL.Class) in graph
    assert not list(graph.triples((URIRef(BASE + "def/Plan"), None, None)))


def test_ontology_has_no_blank_nodes(ontology: Graph) -> None:
    assert not [t for t in ontology if any(isinstance(term, BNode) for term in t)]


def _labels(graph: Graph, term: Node) -> set[str | None]:
    return {o.language for o in graph.objects(term, RDFS.label) if isinstance(o, Literal)}


def _defined(graph: Graph, term: Node) -> list[str]:
    """What is missing for ``term`` to count as defined: labels in zh and en, a definition."""
    missing = []
    labels = _labels(graph, term)
    if "zh" not in labels:
        missing.append("rdfs:label@zh")
    if "en" not in labels:
        missing.append("rdfs:label@en")
    definitions = [
        o
        for p in (SKOS.definition, RDFS.comment)
        for o in graph.objects(term, p)
        if isinstance(o, Literal) and o.language in ("zh", "en")
    ]
    if not definitions:
        missing.append("definition")
    return missing


def _our_terms(graph: Graph, vocab: Vocab) -> set[URIRef]:
    """Predicates, classes and other objects of ``graph`` in our vocabulary namespace."""
    ns = str(vocab.pk)
    terms: set[URIRef] = set()
    for _s, p, o in graph:
        for term in (p, o):
            if isinstance(term, URIRef) and str(term).startswith(ns):
                terms.add(term)
    return terms


def test_every_term_the_mapping_emits_is_defined(ontology: Graph, vocab: Vocab) -> None:
    emitted = _our_terms(sample_graph(vocab), vocab)
    assert vocab.pk.Task in emitted and vocab.pk.countSpan in emitted
    assert URIRef(BASE + "def/stage/reserve") in emitted
    undefined = {str(t): _defined(ontology, t) for t in sorted(emitted) if _defined(ontology, t)}
    assert undefined == {}


def test_every_term_the_mapping_emits_for_the_seed_is_defined(ontology: Graph, vocab: Vocab) -> None:
    from mapping.rdf import plan_graph

    raw = SEED.read_text(encoding="utf-8")
    graph = plan_graph(parser.parse_plan(raw, source_name=SEED.name), vocab, source=raw)
    emitted = _our_terms(graph, vocab)
    undefined = {str(t): _defined(ontology, t) for t in sorted(emitted) if _defined(ontology, t)}
    assert undefined == {}


def test_every_term_the_whole_document_graph_emits_for_the_seed_is_defined(
    ontology: Graph, vocab: Vocab
) -> None:
    """The plan, the entities and the targets: each term of ours is defined in the ontology, except
    the indicator concepts, which are curated data and defined in the graph itself (labels in zh and
    en, a definition)."""
    from mapping.graph import document_graph

    graph = document_graph(SEED.read_text(encoding="utf-8"), SEED.name, vocab)
    ns = str(vocab.pk)
    emitted = {t for triple in graph for t in triple if isinstance(t, URIRef) and str(t).startswith(ns)}
    for expected in ("Target", "Mention", "indicator", "comparator", "divisionLevel/prefecture"):
        assert vocab.term(expected) in emitted, expected
    indicators = {t for t in emitted if str(t).startswith(ns + "indicator/")}
    comparators = {t for t in emitted if str(t).startswith(ns + "comparator/")}
    assert len(indicators) > 10 and comparators >= {vocab.term("comparator/atLeast")}
    in_ontology = {t for t in emitted if (t, None, None) in ontology}
    assert emitted - in_ontology == indicators  # only the indicators are defined by the data
    assert not indicators & in_ontology
    undefined = {str(t): _defined(ontology, t) for t in sorted(in_ontology) if _defined(ontology, t)}
    undefined |= {str(t): _defined(graph, t) for t in sorted(indicators) if _defined(graph, t)}
    assert undefined == {}


def test_an_undefined_term_is_caught(ontology: Graph, vocab: Vocab) -> None:
    """The check the tests above rely on: a bare term, or one without a definition, is not defined."""
    assert _defined(ontology, vocab.term("indicator/madeUp")) == [
        "rdfs:label@zh",
        "rdfs:label@en",
        "definition",
    ]
    labelled = Graph()
    labelled.add((vocab.term("x"), RDFS.label, Literal("甲", lang="zh")))
    labelled.add((vocab.term("x"), RDFS.label, Literal("x", lang="en")))
    assert _defined(labelled, vocab.term("x")) == ["definition"]
    assert _defined(ontology, vocab.pk.Task) == []


@pytest.mark.parametrize("path", ontology_files(), ids=lambda p: p.name)
def test_every_term_of_ours_in_each_file_is_labelled_and_defined(
    path: Path, ontology: Graph, vocab: Vocab
) -> None:
    """Each file's terms, checked against all files (another file may add the labels)."""
    graph = Graph().parse(path, format="turtle", publicID=vocab.base)
    ns = str(vocab.pk)
    ours = {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(ns)}
    assert ours
    undefined = {str(t): _defined(ontology, t) for t in sorted(ours) if _defined(ontology, t)}
    assert undefined == {}


def test_the_classes_the_issue_names_are_declared(ontology: Graph, vocab: Vocab) -> None:
    for name in ("Plan", "Pillar", "Task", "Target", "Project", "Institution"):
        assert (vocab.pk[name], RDF.type, OWL.Class) in ontology, name


def test_every_class_of_ours_is_aligned_with_a_reused_vocabulary(ontology: Graph, vocab: Vocab) -> None:
    ns = str(vocab.pk)
    for cls in ontology.subjects(RDF.type, OWL.Class):
        if not str(cls).startswith(ns):
            continue
        # Through our own superclasses (a kind of institution is aligned through pk:Institution).
        supers = {
            str(o)
            for ancestor in ontology.transitive_objects(cls, RDFS.subClassOf)
            for p in (RDFS.subClassOf, OWL.equivalentClass)
            for o in ontology.objects(ancestor, p)
        }
        assert any(s.startswith(REUSED) for s in supers), cls


def test_reused_vocabularies_are_all_used_for_alignment(ontology: Graph) -> None:
    aligned_to = {
        str(o)
        for p in (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, RDF.type)
        for o in ontology.objects(None, p)
    }
    for namespace in REUSED:
        assert any(a.startswith(namespace) for a in aligned_to), namespace


def test_stage_scheme_has_the_four_stages(ontology: Graph, vocab: Vocab) -> None:
    scheme = vocab.pk.stages
    stages = set(ontology.objects(scheme, SKOS.hasTopConcept))
    assert stages == {vocab.stage(s) for s in ("total", "continuing", "new", "reserve")}
    for stage in stages:
        assert (stage, RDF.type, vocab.pk.Stage) in ontology
        assert (stage, SKOS.inScheme, scheme) in ontology
        assert _defined(ontology, stage) == []


def test_hundred_million_yuan_is_a_qudt_unit_of_1e8(ontology: Graph, vocab: Vocab) -> None:
    unit = vocab.pk.HundredMillionYuan
    assert (unit, RDF.type, QUDT.Unit) in ontology
    multiplier = ontology.value(unit, QUDT.conversionMultiplier)
    assert isinstance(multiplier, Literal)
    assert multiplier.toPython() == Decimal(100_000_000)
    assert _labels(ontology, unit) >= {"zh", "en"}


def test_data_structure_definition_has_the_components(ontology: Graph, vocab: Vocab) -> None:
    dsd = vocab.structure("keyProjects")
    assert (dsd, RDF.type, QB.DataStructureDefinition) in ontology
    components = list(ontology.objects(dsd, QB.component))
    dimensions = {ontology.value(c, QB.dimension) for c in components} - {None}
    measures = {ontology.value(c, QB.measure) for c in components} - {None}
    attributes = {ontology.value(c, QB.attribute) for c in components} - {None}
    assert dimensions == {vocab.pk.pillar, vocab.pk.stage}
    assert measures == {vocab.pk.projectCount, vocab.pk.investment, vocab.pk.investmentYuan}
    assert vocab.pk.startYear in attributes
    for dimension in dimensions:
        assert (dimension, RDF.type, QB.DimensionProperty) in ontology


def test_loaders_take_every_file_and_keep_shapes_apart(tmp_path: Path, vocab: Vocab) -> None:
    for path in ontology_files() + shapes_files():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "facts.ttl").write_text(
        "@prefix pk: <def/> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\npk:Extra a owl:Class .\n",
        encoding="utf-8",
    )
    (tmp_path / "facts-shapes.ttl").write_text(
        "@prefix pk: <def/> .\n@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<def/shape/Extra> a sh:NodeShape ; sh:targetClass pk:Extra .\n",
        encoding="utf-8",
    )
    ontology = load_ontology(vocab, tmp_path)
    shapes = load_shapes(vocab, tmp_path)
    assert (vocab.pk.Extra, RDF.type, OWL.Class) in ontology
    assert not list(ontology.triples((None, None, URIRef("http://www.w3.org/ns/shacl#NodeShape"))))
    assert (
        URIRef(BASE + "def/shape/Extra"),
        RDF.type,
        URIRef("http://www.w3.org/ns/shacl#NodeShape"),
    ) in shapes
    assert (vocab.pk.Extra, RDF.type, OWL.Class) not in shapes
