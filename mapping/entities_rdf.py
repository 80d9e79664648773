"""Map the curated entities and their mentions to RDF (terms: ontology/entities.ttl).

* organisations ``{base}id/org/{key}``: ``org:Organization``, ``pk:Institution`` and the class of their
  type; ``skos:prefLabel``/``rdfs:label`` in zh and en, aliases as ``skos:altLabel``,
  ``org:subOrganizationOf`` the parent;
* places: divisions ``{base}id/place/{code}`` (``skos:notation`` the code) and regions
  ``{base}id/region/{key}``, SKOS concepts of the scheme ``{base}id/places`` with ``skos:broader``;
  links to Wikidata and other datasets come from the linksets (``mapping.linksets_rdf``);
* projects ``{base}id/project/{key}``: ``pk:inTask``, ``pk:involves`` organisations, ``pk:place``;
* mentions ``{base}id/mention/{kind}/{key}/{start}-{end}``: Web Annotations (``oa:identifying``)
  whose body is the entity and whose target is the source span; the task (or the plan, for its title
  and preamble) ``pk:mentions`` the entity directly. The hierarchy is not materialised: the tasks
  that involve an organisation and its parts are ``?task pk:mentions/org:subOrganizationOf* ?org``;
* English labels (``rdfs:label``; ``skos:prefLabel`` too for pillars) of pillars and tasks from
  ``labels_en.toml`` (``eli:title`` stays the Chinese title as printed).

Spans are emitted by :func:`mapping.rdf.add_span`, so a span shared with the plan graph is the same node.
"""

from __future__ import annotations

import logging

from rdflib import RDF, RDFS, SKOS, Graph, Literal, URIRef

from mapping.entities import (
    LABELS_FILE,
    Catalogue,
    CatalogueError,
    EntityKind,
    Mention,
    Organisation,
    OrgType,
    Place,
    PlaceKind,
    Project,
)
from mapping.model import Plan
from mapping.rdf import add_span
from mapping.text import normalise
from mapping.vocab import OA, ORG, PROV, Vocab

_log = logging.getLogger(__name__)

ORG_CLASSES: dict[OrgType, str] = {
    OrgType.UNIVERSITY: "University",
    OrgType.HOSPITAL: "Hospital",
    OrgType.LABORATORY: "Laboratory",
    OrgType.RESEARCH_INSTITUTE: "ResearchInstitute",
    OrgType.GOVERNMENT_BODY: "GovernmentBody",
    OrgType.ENTERPRISE: "Enterprise",
    OrgType.PLATFORM: "InnovationPlatform",
    OrgType.CAMPUS: "Campus",
}


def org_iri(vocab: Vocab, key: str) -> URIRef:
    return vocab.thing("org", key)


def place_iri(vocab: Vocab, place: Place) -> URIRef:
    if place.kind is PlaceKind.DIVISION and place.code is not None:
        return vocab.thing("place", place.code)
    return vocab.thing("region", place.key)


def project_iri(vocab: Vocab, key: str) -> URIRef:
    return vocab.part("project", key)


def place_scheme_iri(vocab: Vocab) -> URIRef:
    return vocab.thing("places")


def entity_iri(vocab: Vocab, catalogue: Catalogue, kind: EntityKind, key: str) -> URIRef:
    if kind is EntityKind.ORGANISATION:
        return org_iri(vocab, key)
    if kind is EntityKind.PLACE:
        return place_iri(vocab, catalogue.places[key])
    return project_iri(vocab, key)


def mention_iri(vocab: Vocab, mention: Mention) -> URIRef:
    return vocab.part("mention", mention.kind.value, mention.key, f"{mention.span.start}-{mention.span.end}")


def entities_graph(
    plan: Plan, mentions: tuple[Mention, ...], catalogue: Catalogue, vocab: Vocab, *, source: str
) -> Graph:
    """The RDF graph of the catalogue's entities, of their ``mentions`` in ``plan`` and of the English
    labels of its pillars and tasks; ``source`` is the text ``plan`` was parsed from.

    Raises :class:`mapping.entities.CatalogueError` when an English label was written for another
    title than the one the plan has under that number, and ``ValueError`` when a mention names a task
    the plan does not have or a span whose quote is not the source text.
    """
    return _EntityMapper(plan, catalogue, vocab, source).graph(mentions)


def catalogue_graph(catalogue: Catalogue, vocab: Vocab) -> Graph:
    """The catalogue's organisations and places (corpus-wide nodes), for a plan of any shape."""
    mapper = _EntityMapper(None, catalogue, vocab, "")
    for org in catalogue.organisations.values():
        mapper.organisation(org)
    mapper.place_scheme()
    for place in catalogue.places.values():
        mapper.place(place)
    return mapper.g


def mention_node(
    g: Graph,
    vocab: Vocab,
    catalogue: Catalogue,
    mention: Mention,
    context: URIRef,
    source: str,
) -> URIRef:
    """A mention (``pk:Mention``) of a catalogued entity in ``context`` (a task, a division or the plan),
    and ``context pk:mentions`` the entity."""
    node = mention_iri(vocab, mention)
    entity = entity_iri(vocab, catalogue, mention.kind, mention.key)
    span = add_span(g, vocab, mention.span, source)
    g.add((node, RDF.type, vocab.pk.Mention))
    g.add((node, RDF.type, OA.Annotation))
    g.add((node, OA.motivatedBy, OA.identifying))
    g.add((node, OA.hasBody, entity))
    g.add((node, OA.hasTarget, span))
    g.add((node, PROV.wasDerivedFrom, span))
    g.add((node, vocab.pk.mentionIn, context))
    g.add((context, vocab.pk.mentions, entity))
    if mention.kind is EntityKind.PROJECT:
        g.add((entity, PROV.wasDerivedFrom, span))
    return node


class _EntityMapper:
    def __init__(self, plan: Plan | None, catalogue: Catalogue, vocab: Vocab, source: str) -> None:
        self.plan = plan
        self.catalogue = catalogue
        self.vocab = vocab
        self.pk = vocab.pk
        self.source = source
        self.g = Graph()
        for prefix, namespace in vocab.prefixes().items():
            self.g.bind(prefix, namespace, override=True)

    def add(self, subject: URIRef, predicate: URIRef, obj: URIRef | Literal) -> None:
        self.g.add((subject, predicate, obj))

    def graph(self, mentions: tuple[Mention, ...]) -> Graph:
        assert self.plan is not None
        for org in self.catalogue.organisations.values():
            self.organisation(org)
        self.place_scheme()
        for place in self.catalogue.places.values():
            self.place(place)
        task_numbers = {task.number for task in self.plan.tasks}
        # A project belongs to its task: when the text has no such task (a truncated or another edition
        # of the plan), the project is left out with a logged notice, not emitted to fail SHACL.
        dropped = {
            key for key, project in self.catalogue.projects.items() if project.task not in task_numbers
        }
        for key, project in self.catalogue.projects.items():
            if key in dropped:
                _log.warning(
                    "named project %s (%s) left out: the plan has no task %d", key, project.name, project.task
                )
            else:
                self.project(project)
        for mention in mentions:
            if mention.kind is EntityKind.PROJECT and mention.key in dropped:
                continue
            if mention.task is not None and mention.task not in task_numbers:
                raise ValueError(
                    f"mention of {mention.key!r} in task {mention.task}, which the plan does not have"
                )
            self.mention(mention)
        self.english_labels()
        return self.g

    def labels(self, node: URIRef, zh: str, en: str, aliases: tuple[str, ...]) -> None:
        for predicate in (SKOS.prefLabel, RDFS.label):
            self.add(node, predicate, Literal(zh, lang="zh"))
            self.add(node, predicate, Literal(en, lang="en"))
        for alias in aliases:
            self.add(node, SKOS.altLabel, Literal(alias, lang="zh"))

    def note(self, node: URIRef, note: str | None) -> None:
        if note is not None:
            self.add(node, SKOS.editorialNote, Literal(note, lang="en"))

    def organisation(self, org: Organisation) -> None:
        node = org_iri(self.vocab, org.key)
        self.add(node, RDF.type, ORG.Organization)
        self.add(node, RDF.type, self.pk.Institution)
        self.add(node, RDF.type, self.pk[ORG_CLASSES[org.type]])
        self.labels(node, org.name, org.name_en, org.aliases)
        if org.parent is not None:
            self.add(node, ORG.subOrganizationOf, org_iri(self.vocab, org.parent))
        self.note(node, org.note)

    def place_scheme(self) -> None:
        scheme = place_scheme_iri(self.vocab)
        self.add(scheme, RDF.type, SKOS.ConceptScheme)
        self.labels(scheme, "计划提及的地点", "places named in the plan", ())

    def place(self, place: Place) -> None:
        node = place_iri(self.vocab, place)
        self.add(node, RDF.type, self.pk.Place)
        self.add(node, RDF.type, SKOS.Concept)
        self.add(node, SKOS.inScheme, place_scheme_iri(self.vocab))
        self.labels(node, place.name, place.name_en, place.aliases)
        if place.kind is PlaceKind.DIVISION and place.code is not None:
            self.add(node, RDF.type, self.pk.AdministrativeDivision)
            self.add(node, SKOS.notation, Literal(place.code))
            if place.level is not None:
                self.add(node, self.pk.divisionLevel, self.vocab.term(f"divisionLevel/{place.level}"))
        else:
            self.add(node, RDF.type, self.pk.Region)
        if place.broader is None:
            self.add(node, SKOS.topConceptOf, place_scheme_iri(self.vocab))
        else:
            self.add(node, SKOS.broader, place_iri(self.vocab, self.catalogue.places[place.broader]))
        self.note(node, place.note)

    def project(self, project: Project) -> None:
        node = project_iri(self.vocab, project.key)
        self.add(node, RDF.type, self.pk.Project)
        self.labels(node, project.name, project.name_en, project.aliases)
        self.add(node, self.pk.inTask, self.vocab.task(project.task))
        for org in project.organisations:
            self.add(node, self.pk.involves, org_iri(self.vocab, org))
        for key in project.places:
            self.add(node, self.pk.place, place_iri(self.vocab, self.catalogue.places[key]))
        self.note(node, project.note)

    def mention(self, mention: Mention) -> None:
        context = self.vocab.plan() if mention.task is None else self.vocab.task(mention.task)
        mention_node(self.g, self.vocab, self.catalogue, mention, context, self.source)

    def english_labels(self) -> None:
        assert self.plan is not None
        for pillar in self.plan.pillars:
            label = self.catalogue.pillar_labels.get(pillar.number)
            if label is None:
                continue
            self.check_label("pillar", pillar.number, label.zh, pillar.title)
            node = self.vocab.pillar(pillar.number)
            self.add(node, RDFS.label, Literal(label.en, lang="en"))
            self.add(node, SKOS.prefLabel, Literal(label.en, lang="en"))
        for task in self.plan.tasks:
            label = self.catalogue.task_labels.get(task.number)
            if label is None:
                continue
            self.check_label("task", task.number, label.zh, task.title)
            node = self.vocab.task(task.number)
            self.add(node, RDFS.label, Literal(f"({task.number}) {label.en}", lang="en"))

    def check_label(self, section: str, number: int, zh: str, title: str) -> None:
        if normalise(zh).text != normalise(title).text:
            raise CatalogueError(
                LABELS_FILE, f"{section}.{number}", f"translates {zh!r}, but the plan's title is {title!r}"
            )
