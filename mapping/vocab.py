"""Namespaces and the IRI patterns of docs/ARCHITECTURE.md, for one configured base."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Namespace, URIRef

DEFAULT_BASE = "http://127.0.0.1:8000/"
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# The first segments under ``{base}id/`` that name a part of a plan (``mapping.vocab.Vocab.part``); in
# the one-plan layout of the first release they sat right under ``{base}id/``.
PLAN_PARTS = ("pillar", "pillars", "task", "statistics", "target", "span", "source", "mention", "project")


def legacy_path(path: str, slug: str) -> str | None:
    """The path under ``{base}id/`` that the one-plan IRI ``{base}id/{path}`` has in the corpus layout,
    where the plan it belonged to has ``slug``; None when ``path`` was not a plan's IRI (organisations,
    places, periods … kept theirs). The rule: ``plan`` becomes ``plan/{slug}``, and every plan part
    ``{part}/…`` moves under it, ``plan/{slug}/{part}/…``."""
    if path == "plan":
        return f"plan/{slug}"
    head = path.split("/", 1)[0]
    return f"plan/{slug}/{path}" if head in PLAN_PARTS else None


ELI = Namespace("http://data.europa.eu/eli/ontology#")
QB = Namespace("http://purl.org/linked-data/cube#")
ORG = Namespace("http://www.w3.org/ns/org#")
OA = Namespace("http://www.w3.org/ns/oa#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VOID = Namespace("http://rdfs.org/ns/void#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
QUDT = Namespace("http://qudt.org/schema/qudt/")
UNIT = Namespace("http://qudt.org/vocab/unit/")
SCHEMA = Namespace("https://schema.org/")
SDMX_ATTRIBUTE = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
WD = Namespace("http://www.wikidata.org/entity/")

# Reused namespaces with the prefixes the dumps and the query page use (rdf, rdfs, owl, xsd, skos,
# dcterms and sh come from rdflib itself).
REUSED_PREFIXES: dict[str, str] = {
    "eli": str(ELI),
    "qb": str(QB),
    "org": str(ORG),
    "oa": str(OA),
    "prov": str(PROV),
    "dcat": str(DCAT),
    "void": str(VOID),
    "qudt": str(QUDT),
    "unit": str(UNIT),
    "schema": str(SCHEMA),
    "sdmx-attribute": str(SDMX_ATTRIBUTE),
    "sd": str(SD),
    "wd": str(WD),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "sh": "http://www.w3.org/ns/shacl#",
}


@dataclass(frozen=True)
class Vocab:
    """Our namespaces under one base IRI, and the minting of the IRIs of things."""

    base: str = DEFAULT_BASE
    plan_slug: str | None = None  # the plan whose parts this vocab mints; None: the one-plan layout

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            raise ValueError(f"the base IRI must end with '/': {self.base!r}")
        if self.plan_slug is not None and not SLUG.fullmatch(self.plan_slug):
            raise ValueError(f"not a plan slug (lower-case ASCII words joined by '-'): {self.plan_slug!r}")

    def for_plan(self, slug: str) -> Vocab:
        """The minter of one plan's IRIs: its parts under ``{base}id/plan/{slug}/``; corpus-wide things
        (organisations, places, periods, indicators, ``def/`` terms, graphs) keep their IRIs."""
        return Vocab(self.base, slug)

    def part(self, *parts: object) -> URIRef:
        """A part of this vocab's plan: ``{base}id/plan/{slug}/{parts}`` (``{base}id/{parts}`` in the
        one-plan layout of the first release, which ``legacy_path`` maps onto a slug)."""
        if self.plan_slug is None:
            return self.thing(*parts)
        return self.thing("plan", self.plan_slug, *parts)

    def plan_graph_iri(self) -> URIRef:
        """The named graph holding this plan: ``{base}id/graph/plan/{slug}``."""
        if self.plan_slug is None:
            raise ValueError("the one-plan layout has no plan graph")
        return self.thing("graph", "plan", self.plan_slug)

    @property
    def pk(self) -> Namespace:
        return Namespace(self.base + "def/")

    @property
    def id(self) -> Namespace:
        return Namespace(self.base + "id/")

    def prefixes(self) -> dict[str, str]:
        return {"pk": self.base + "def/", "id": self.base + "id/", **REUSED_PREFIXES}

    def term(self, name: str) -> URIRef:
        return URIRef(self.base + "def/" + name)

    def thing(self, *parts: object) -> URIRef:
        return URIRef(self.base + "id/" + "/".join(str(p) for p in parts))

    def plan(self) -> URIRef:
        return self.thing("plan") if self.plan_slug is None else self.thing("plan", self.plan_slug)

    def pillar(self, number: int) -> URIRef:
        return self.part("pillar", number)

    def task(self, number: int) -> URIRef:
        return self.part("task", number)

    def observation(self, pillar: int, stage: str) -> URIRef:
        return self.part("statistics", pillar, stage)

    def target(self, task: int | str, k: int) -> URIRef:
        return self.part("target", f"{task}-{k}")

    def span(self, start: int, end: int) -> URIRef:
        return self.part("span", f"{start}-{end}")

    def source(self) -> URIRef:
        return self.part("source")

    # Helpers for the IRIs the mapper mints beyond the table's basic patterns.

    def pillar_scheme(self) -> URIRef:
        """The SKOS concept scheme made of the plan's pillars."""
        return self.part("pillars")

    def statistics(self) -> URIRef:
        """The qb:DataSet of the key-project statistics."""
        return self.part("statistics")

    def period(self, first: int, last: int) -> URIRef:
        """The plan's period of time, e.g. ``{base}id/period/2023-2025``."""
        return self.thing("period", f"{first}-{last}")

    def stage(self, key: str) -> URIRef:
        """A concept of the stage scheme, e.g. ``{base}def/stage/new``."""
        return self.term(f"stage/{key}")

    def structure(self, key: str) -> URIRef:
        """A data structure definition of ours, e.g. ``{base}def/structure/keyProjects``."""
        return self.term(f"structure/{key}")
