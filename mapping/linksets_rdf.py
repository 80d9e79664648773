"""Resolved linksets as RDF: the links in the data, each source described as a ``void:Linkset``.

* the link itself, ``<entity> skos:exactMatch|skos:closeMatch|owl:sameAs <target>`` or
  ``<organisation> org:identifier "…"^^pk:UnifiedSocialCreditCode``, in the data graph;
* its provenance, in the data graph beside it: the statement ``{base}id/linkset/{name}/{line}``
  (``rdf:Statement`` with ``rdf:subject``/``rdf:predicate``/``rdf:object``), with the row's
  justification (``rdfs:comment``), its line (``pk:sourceLine``) and ``prov:wasDerivedFrom`` the
  linkset;
* the linkset ``{base}id/linkset/{name}`` in the dataset description: ``void:Linkset``, a
  ``void:subset`` of ``{base}id/dataset``, with ``void:subjectsTarget``, ``void:objectsTarget``,
  ``void:linkPredicate`` (each predicate it uses), ``void:triples`` (its link triples), title,
  creator (a ``foaf:Agent``), creation date, description, and the CSV file it came from
  (``{base}id/linkset/{name}/file``: its name and an ``spdx:Checksum``, as the dumps have).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF

from mapping.linksets import EntityIndex, Link, Linkset, Relation, TargetKind, read_linksets, resolve
from mapping.vocab import ORG, PROV, SCHEMA, SPDX, VOID, Vocab

PREDICATES: dict[Relation, URIRef] = {
    Relation.EXACT_MATCH: SKOS.exactMatch,
    Relation.CLOSE_MATCH: SKOS.closeMatch,
    Relation.SAME_AS: OWL.sameAs,
    Relation.IDENTIFIER: ORG.identifier,
}

# The entities a researcher may link: organisations, places, named projects and plans.
ENTITY_CLASSES = ("Institution", "Place", "Project", "Plan")
NAME_PROPERTIES = (SKOS.prefLabel, RDFS.label, SKOS.altLabel)


def linkset_iri(vocab: Vocab, name: str) -> URIRef:
    return vocab.thing("linkset", name)


def entity_index(graph: Graph, vocab: Vocab) -> EntityIndex:
    """The entities of ``graph`` that rows may name, with every exact name they carry."""
    iris: set[str] = set()
    names: dict[str, set[str]] = defaultdict(set)
    for cls in ENTITY_CLASSES:
        for node in graph.subjects(RDF.type, vocab.pk[cls]):
            if not isinstance(node, URIRef):
                continue
            iris.add(str(node))
            for prop in NAME_PROPERTIES:
                for label in graph.objects(node, prop):
                    names[str(label)].add(str(node))
    return EntityIndex(vocab.base, frozenset(iris), {k: frozenset(v) for k, v in names.items()})


def _object(link: Link, vocab: Vocab) -> URIRef | Literal:
    target = link.row.target
    if target.kind is TargetKind.CREDIT_CODE:
        return Literal(target.value, datatype=vocab.pk.UnifiedSocialCreditCode)
    return URIRef(target.value)


def links_graph(links: Iterable[Link], linksets: Sequence[Linkset], vocab: Vocab) -> Graph:
    """The links and their statements (justification, line, linkset) for the data graph."""
    g = Graph()
    by_row = {id(row): ls for ls in linksets for row in ls.rows}
    for link in links:
        linkset = by_row[id(link.row)]
        subject, predicate, obj = URIRef(link.subject), PREDICATES[link.row.relation], _object(link, vocab)
        g.add((subject, predicate, obj))
        statement = vocab.thing("linkset", linkset.name, str(link.row.location.line))
        g.add((statement, RDF.type, RDF.Statement))
        g.add((statement, RDF.subject, subject))
        g.add((statement, RDF.predicate, predicate))
        g.add((statement, RDF.object, obj))
        g.add((statement, RDFS.comment, Literal(link.row.justification)))
        g.add((statement, vocab.pk.sourceLine, Literal(link.row.location.line, datatype=XSD.positiveInteger)))
        g.add((statement, PROV.wasDerivedFrom, linkset_iri(vocab, linkset.name)))
    return g


def description_graph(links: Iterable[Link], linksets: Sequence[Linkset], vocab: Vocab) -> Graph:
    """Each linkset as a ``void:Linkset`` of the dataset, with its triple count and its source."""
    g = Graph()
    dataset = vocab.thing("dataset")
    counts: dict[str, int] = defaultdict(int)
    predicates: dict[str, set[URIRef]] = defaultdict(set)
    by_row = {id(row): ls.name for ls in linksets for row in ls.rows}
    for link in links:
        name = by_row[id(link.row)]
        counts[name] += 1
        predicates[name].add(PREDICATES[link.row.relation])
    for ls in linksets:
        node = linkset_iri(vocab, ls.name)
        creator = vocab.thing("linkset", ls.name, "creator")
        source = vocab.thing("linkset", ls.name, "file")
        g.add((dataset, VOID.subset, node))
        g.add((node, RDF.type, VOID.Linkset))
        g.add((node, DCTERMS.title, Literal(ls.title)))
        if ls.description:
            g.add((node, DCTERMS.description, Literal(ls.description)))
        g.add((node, DCTERMS.creator, creator))
        g.add((creator, RDF.type, FOAF.Agent))
        g.add((creator, FOAF.name, Literal(ls.creator)))
        g.add((node, DCTERMS.created, Literal(ls.created.isoformat(), datatype=XSD.date)))
        g.add((node, VOID.subjectsTarget, dataset))
        g.add((node, VOID.objectsTarget, URIRef(ls.objects_target)))
        for predicate in sorted(predicates[ls.name]):
            g.add((node, VOID.linkPredicate, predicate))
        g.add((node, VOID.triples, Literal(counts[ls.name], datatype=XSD.integer)))
        g.add((node, PROV.wasDerivedFrom, source))
        g.add((node, DCTERMS.source, source))
        g.add((source, RDF.type, PROV.Entity))
        g.add((source, SCHEMA.name, Literal(ls.file_name)))
        checksum = vocab.thing("linkset", ls.name, "file", "sha256")
        g.add((source, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(ls.sha256, datatype=XSD.hexBinary)))
    return g


def merge_linksets(
    graph: Graph,
    vocab: Vocab,
    directory: Path,
    *,
    index_graph: Graph | None = None,
    index: EntityIndex | None = None,
) -> Graph:
    """Read and check every linkset in ``directory``, resolve its rows against the entities of
    ``index`` (or those of ``index_graph``, ``graph`` itself by default), add its links (with their
    statements) to ``graph``, and return the linksets' description for the dataset description graph.

    Raises ``LinksetError`` naming file and line before anything is added."""
    linksets = read_linksets(directory)
    if index is None:
        index = entity_index(graph if index_graph is None else index_graph, vocab)
    links = resolve(linksets, index)
    graph += links_graph(links, linksets, vocab)
    return description_graph(links, linksets, vocab)
