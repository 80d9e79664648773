"""Namespaces and the IRI patterns of docs/ARCHITECTURE.md, for one configured base."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Namespace, URIRef

DEFAULT_BASE = "http://127.0.0.1:8000/"

ELI = Namespace("http://data.europa.eu/eli/ontology#")
QB = Namespace("http://purl.org/linked-data/cube#")
ORG = Namespace("http://www.w3.org/ns/org#")
OA = Namespace("http://www.w3.org/ns/oa#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VOID = Namespace("http://rdfs.org/ns/void#")
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

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            raise ValueError(f"the base IRI must end with '/': {self.base!r}")

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
        return self.thing("plan")

    def pillar(self, number: int) -> URIRef:
        return self.thing("pillar", number)

    def task(self, number: int) -> URIRef:
        return self.thing("task", number)

    def observation(self, pillar: int, stage: str) -> URIRef:
        return self.thing("statistics", pillar, stage)

    def target(self, task: int, k: int) -> URIRef:
        return self.thing("target", f"{task}-{k}")

    def span(self, start: int, end: int) -> URIRef:
        return self.thing("span", f"{start}-{end}")

    def source(self) -> URIRef:
        return self.thing("source")

    # Helpers for the IRIs the mapper mints beyond the table's basic patterns.

    def pillar_scheme(self) -> URIRef:
        """The SKOS concept scheme made of the plan's pillars."""
        return self.thing("pillars")

    def statistics(self) -> URIRef:
        """The qb:DataSet of the key-project statistics."""
        return self.thing("statistics")

    def period(self, first: int, last: int) -> URIRef:
        """The plan's period of time, e.g. ``{base}id/period/2023-2025``."""
        return self.thing("period", f"{first}-{last}")

    def stage(self, key: str) -> URIRef:
        """A concept of the stage scheme, e.g. ``{base}def/stage/new``."""
        return self.term(f"stage/{key}")

    def structure(self, key: str) -> URIRef:
        """A data structure definition of ours, e.g. ``{base}def/structure/keyProjects``."""
        return self.term(f"structure/{key}")
