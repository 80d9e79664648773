"""What DCAT-AP 3.0.1 adds to the dataset description, beside ``mapping.dumps.dataset_graph``.

The European application profile of DCAT, which data portals harvest, asks of the description more
than DCAT and VoID do: a description of the dataset and of the endpoint, the classes of the values
(media types, formats, standards, agents, periods, locations), and recommends keywords, themes,
publisher, contact point, temporal and spatial coverage, file formats and licences. This module adds
exactly those, from three sources only:

* the build's files (formats, media types, the specifications the tables follow);
* the graph (the plans' periods, the administrative divisions a plan's title and preamble name);
* the deployment's settings (``mapping.publication``: publisher, contact, licence, themes).

Nothing is guessed: what no source states is left out (pyshacl's warnings against the profile's
recommended shapes say which recommendations stay open: ``tests/test_dcatap.py`` pins them).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rdflib import RDF, SKOS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF

from mapping.dumps import IANA_MEDIA_TYPES, TABULAR_FORMATS, DumpFile
from mapping.layout import GZIP_MEDIA_TYPE
from mapping.publication import Publication
from mapping.vocab import DCAT, Vocab

VCARD = "http://www.w3.org/2006/vcard/ns#"
LANGUAGE_ZH = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
DATA_THEME_SCHEME = URIRef("http://publications.europa.eu/resource/authority/data-theme")
FILE_TYPE_SCHEME = URIRef("http://publications.europa.eu/resource/authority/file-type")
SPARQL_PROTOCOL = URIRef("http://www.w3.org/TR/sparql11-protocol/")
# Dump format names (mapping.dumps.FORMATS, mapping.tables) → the EU file-type authority's codes.
FILE_TYPES = {
    "turtle": "RDF_TURTLE",
    "n-triples": "RDF_N_TRIPLES",
    "n-quads": "RDF_N_QUADS",
    "json-ld": "JSON_LD",
    "csv": "CSV",
    "csvw": "JSON",
}
DESCRIPTIONS = {
    "turtle": "the default graph (the plans and the ontology) in Turtle",
    "n-triples": "the default graph (the plans and the ontology) in N-Triples",
    "n-quads": "every graph, the SHACL validation report included, in N-Quads",
    "json-ld": "the default graph (the plans and the ontology) in JSON-LD",
    "csv": "a table of the graph in CSV, described by csv-metadata.json",
    "csvw": "the W3C CSVW metadata describing the CSV tables",
}
KEYWORDS = (("行动计划", "zh"), ("action plan", "en"), ("知识图谱", "zh"), ("knowledge graph", "en"))


@dataclass(frozen=True)
class Coverage:
    """What the graph says of the dataset's extent: the years of its plans, the divisions they name."""

    first_year: int | None
    last_year: int | None
    places: tuple[URIRef, ...]


def coverage(graph: Graph, vocab: Vocab, plan_iri: URIRef | None = None) -> Coverage:
    """The span of the plans' periods (of ``plan_iri`` only, if given) and the administrative
    divisions their titles and preambles name (``pk:mentions`` on a plan node)."""
    years: list[int] = []
    places: set[URIRef] = set()
    plans = [plan_iri] if plan_iri is not None else list(graph.subjects(RDF.type, vocab.pk.Plan))
    for plan in plans:
        for period in graph.objects(plan, DCTERMS.temporal):
            for prop in (DCAT.startDate, DCAT.endDate):
                years += [int(str(v)[:4]) for v in graph.objects(period, prop)]
        for named in graph.objects(plan, vocab.pk.mentions):
            if isinstance(named, URIRef) and (named, RDF.type, vocab.pk.AdministrativeDivision) in graph:
                places.add(named)
    return Coverage(min(years, default=None), max(years, default=None), tuple(sorted(places)))


def profile_graph(
    vocab: Vocab,
    files: Iterable[DumpFile],
    publication: Publication,
    extent: Coverage,
    plans: Sequence[tuple[URIRef, Coverage]] = (),
) -> Graph:
    """The DCAT-AP additions for ``{base}id/dataset`` (also the catalogue of the plans' datasets), its
    distributions, its endpoint, and each plan's dataset (``plans``: its node and its coverage; the
    same as ``plan_profile_graph`` of each, which describes the plan's files only when they are in
    ``files``)."""
    g = Graph()
    dataset = vocab.thing("dataset")
    g.add((dataset, DCTERMS.language, LANGUAGE_ZH))
    g.add((LANGUAGE_ZH, RDF.type, DCTERMS.LinguisticSystem))
    g.add((dataset, DCAT.themeTaxonomy, DATA_THEME_SCHEME))
    g.add((DATA_THEME_SCHEME, RDF.type, SKOS.ConceptScheme))
    g.add((DATA_THEME_SCHEME, DCTERMS.title, Literal("Data theme", lang="en")))
    g.add((dataset, FOAF.homepage, URIRef(vocab.base)))
    g.add((URIRef(vocab.base), RDF.type, FOAF.Document))
    endpoint = URIRef(vocab.base + "sparql")
    g.add(
        (
            dataset,
            DCTERMS.description,
            Literal(
                "政府行动计划的知识图谱:计划的结构、重点项目统计、目标、机构、地点和项目,每一事实都指向原文。",
                lang="zh",
            ),
        )
    )
    g.add(
        (
            dataset,
            DCTERMS.description,
            Literal(
                "Government action plans as a knowledge graph: their structure, key-project statistics, "
                "targets, organisations, places and projects, every fact pointing at the characters of "
                "the source it came from.",
                lang="en",
            ),
        )
    )
    g.add((endpoint, DCTERMS.title, Literal("plankg SPARQL endpoint", lang="en")))
    g.add(
        (
            endpoint,
            DCTERMS.description,
            Literal("SPARQL 1.1 query endpoint over the dataset (read-only).", lang="en"),
        )
    )
    g.add((endpoint, DCAT.endpointDescription, endpoint))  # GET without a query: the Service Description
    g.add((endpoint, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    g.add((SPARQL_PROTOCOL, RDF.type, DCTERMS.Standard))
    _keywords(g, publication, (dataset, endpoint))
    for theme, label in publication.theme_iris():
        g.add((URIRef(theme), RDF.type, SKOS.Concept))
        g.add((URIRef(theme), SKOS.inScheme, DATA_THEME_SCHEME))
        g.add((URIRef(theme), SKOS.prefLabel, Literal(label, lang="en")))
    _agents(g, vocab, publication, (dataset, endpoint))
    _extent(g, dataset, extent)
    _files(g, vocab, files, publication)
    for node, covered in plans:
        g += plan_profile_graph(vocab, (), publication, node, covered)
    if publication.license is not None:
        g.add((dataset, DCTERMS.license, URIRef(publication.license)))  # the catalogue's too
        g.add((URIRef(publication.license), RDF.type, DCTERMS.LicenseDocument))
    return g


def plan_profile_graph(
    vocab: Vocab, files: Iterable[DumpFile], publication: Publication, node: URIRef, covered: Coverage
) -> Graph:
    """What ``profile_graph`` adds for one plan's dataset ``node`` (its coverage ``covered``) and its
    own ``files``: a build describes the plans one at a time with it."""
    g = Graph()
    _keywords(g, publication, (node,))
    _agents(g, vocab, publication, (node,))
    _extent(g, node, covered)
    _files(g, vocab, files, publication)
    return g


def _keywords(g: Graph, publication: Publication, nodes: Sequence[URIRef]) -> None:
    for node in nodes:
        for word, lang in KEYWORDS:
            g.add((node, DCAT.keyword, Literal(word, lang=lang)))
        for theme, _ in publication.theme_iris():
            g.add((node, DCAT.theme, URIRef(theme)))


def _files(g: Graph, vocab: Vocab, files: Iterable[DumpFile], publication: Publication) -> None:
    """The DCAT-AP statements of each file's distribution (format, description, licence)."""
    for f in files:
        distribution = vocab.thing("dataset", "dump", f.name)
        g.add((URIRef(IANA_MEDIA_TYPES + f.media_type), RDF.type, DCTERMS.MediaType))
        if f.gzip:
            g.add((URIRef(IANA_MEDIA_TYPES + GZIP_MEDIA_TYPE), RDF.type, DCTERMS.MediaType))
        if f.format in TABULAR_FORMATS:
            g.add((URIRef(TABULAR_FORMATS[f.format]), RDF.type, DCTERMS.Standard))
        if f.format in FILE_TYPES:
            file_type = URIRef(FILE_TYPE + FILE_TYPES[f.format])
            g.add((distribution, DCTERMS.format, file_type))
            g.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
            g.add((file_type, SKOS.inScheme, FILE_TYPE_SCHEME))
        if f.format in DESCRIPTIONS:
            text = DESCRIPTIONS[f.format] + (", gzipped" if f.gzip else "")
            g.add((distribution, DCTERMS.description, Literal(text, lang="en")))
        if publication.license is not None:
            g.add((distribution, DCTERMS.license, URIRef(publication.license)))


def _extent(g: Graph, node: URIRef, extent: Coverage) -> None:
    """The node's temporal coverage (``{node}/temporal``, first to last day of its years) and places."""
    if extent.first_year is not None and extent.last_year is not None:
        period = URIRef(f"{node}/temporal")
        g.add((node, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        start, end = datetime.date(extent.first_year, 1, 1), datetime.date(extent.last_year, 12, 31)
        g.add((period, DCAT.startDate, Literal(start.isoformat(), datatype=XSD.date)))
        g.add((period, DCAT.endDate, Literal(end.isoformat(), datatype=XSD.date)))
    for place in extent.places:
        g.add((node, DCTERMS.spatial, place))
        g.add((place, RDF.type, DCTERMS.Location))


def _agents(g: Graph, vocab: Vocab, publication: Publication, resources: Sequence[URIRef]) -> None:
    publisher = vocab.thing("dataset", "publisher")
    g.add((publisher, RDF.type, FOAF.Agent))
    if publication.publisher_name is not None:
        g.add((publisher, FOAF.name, Literal(publication.publisher_name)))
    else:
        g.add((publisher, FOAF.name, Literal("publisher not configured (PLANKG_PUBLISHER_NAME)", lang="en")))
    if publication.publisher_url is not None:
        g.add((publisher, FOAF.homepage, URIRef(publication.publisher_url)))
    for resource in resources:
        g.add((resource, DCTERMS.publisher, publisher))
    if publication.contact_email is not None:
        contact = vocab.thing("dataset", "contact")
        g.add((contact, RDF.type, URIRef(VCARD + "Kind")))
        g.add((contact, URIRef(VCARD + "fn"), Literal(publication.publisher_name or "contact")))
        g.add((contact, URIRef(VCARD + "hasEmail"), URIRef("mailto:" + publication.contact_email)))
        for resource in resources:
            g.add((resource, DCAT.contactPoint, contact))
