"""Every result and RDF format the server speaks, each described once.

A format has a short name (usable as ``?format=`` and in file names), its media types (the first is
the one we send), a file extension and the kind of answer it can carry. Content negotiation
(:mod:`server.protocol.negotiation`), the SPARQL route, the store workers and the dumps all read this table;
nothing else lists media types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache


class Kind(Enum):
    """What a format can carry."""

    RESULTS = "results"  # SELECT solutions and ASK booleans
    GRAPH = "graph"  # CONSTRUCT / DESCRIBE triples, RDF documents
    DATASET = "dataset"  # quads with their graphs
    PAGE = "page"  # a document for people


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    media_types: tuple[str, ...]
    extension: str
    kinds: frozenset[Kind]
    text: bool = True
    # Only reachable by name (?format=), never chosen by an Accept header: it shares its media type
    # with the format listed before it.
    by_name_only: bool = False
    # A UTF-8 byte-order mark in front of the body, so that spreadsheet programs that guess the
    # encoding (Excel) open Chinese text correctly. Off for plain text/csv: machine readers and the
    # W3C result-format tests expect none.
    bom: bool = False
    iri: str | None = None  # the W3C format IRI (for service descriptions and DCAT)
    rdflib_name: str | None = None  # rdflib's serialiser name, for graphs built with rdflib

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type

    def carries(self, kind: Kind) -> bool:
        return kind in self.kinds


_RESULTS = frozenset({Kind.RESULTS})
_GRAPH = frozenset({Kind.GRAPH})
_QUADS = frozenset({Kind.GRAPH, Kind.DATASET})
_PAGE = frozenset({Kind.PAGE})
_W3C = "http://www.w3.org/ns/formats/"

# fmt: off
SPARQL_JSON = Format("json", "SPARQL 1.1 Query Results JSON",
                     ("application/sparql-results+json", "application/json"), "srj", _RESULTS,
                     iri=_W3C + "SPARQL_Results_JSON")
SPARQL_XML = Format("xml", "SPARQL Query Results XML",
                    ("application/sparql-results+xml", "application/xml"), "srx", _RESULTS,
                    iri=_W3C + "SPARQL_Results_XML")
CSV = Format("csv", "SPARQL 1.1 Query Results CSV", ("text/csv",), "csv", _RESULTS,
             iri=_W3C + "SPARQL_Results_CSV")
CSV_EXCEL = Format("csv-excel", "CSV with a UTF-8 byte-order mark, for spreadsheets", ("text/csv",),
                   "csv", _RESULTS, by_name_only=True, bom=True)
TSV = Format("tsv", "SPARQL 1.1 Query Results TSV", ("text/tab-separated-values",), "tsv", _RESULTS,
             iri=_W3C + "SPARQL_Results_TSV")
TURTLE = Format("turtle", "Turtle", ("text/turtle", "application/x-turtle"), "ttl", _GRAPH,
                iri=_W3C + "Turtle", rdflib_name="turtle")
N_TRIPLES = Format("ntriples", "N-Triples", ("application/n-triples", "text/plain"), "nt", _GRAPH,
                   iri=_W3C + "N-Triples", rdflib_name="nt")
JSON_LD = Format("jsonld", "JSON-LD", ("application/ld+json",), "jsonld", _GRAPH,
                 iri=_W3C + "JSON-LD", rdflib_name="json-ld")
RDF_XML = Format("rdfxml", "RDF/XML", ("application/rdf+xml",), "rdf", _GRAPH,
                 iri=_W3C + "RDF_XML", rdflib_name="xml")
# Quad formats carry a plain graph too (every triple in the default graph).
N_QUADS = Format("nquads", "N-Quads", ("application/n-quads",), "nq", _QUADS,
                 iri=_W3C + "N-Quads", rdflib_name="nquads")
TRIG = Format("trig", "TriG", ("application/trig",), "trig", _QUADS,
              iri=_W3C + "TriG", rdflib_name="trig")
# A page for people (the query page of the web front end, when one is installed).
HTML = Format("html", "HTML", ("text/html", "application/xhtml+xml"), "html", _PAGE)
# fmt: on

# In the server's order of preference: the first format of a kind is its default.
FORMATS: tuple[Format, ...] = (
    SPARQL_JSON, SPARQL_XML, CSV, CSV_EXCEL, TSV, TURTLE, N_TRIPLES, JSON_LD, RDF_XML, N_QUADS, TRIG, HTML,
)  # fmt: skip


@cache
def formats_for(kind: Kind) -> tuple[Format, ...]:
    """The formats that can carry ``kind``, the default first."""
    return tuple(f for f in FORMATS if f.carries(kind))


def by_name(name: str) -> Format | None:
    return next((f for f in FORMATS if f.name == name.lower()), None)


def by_extension(extension: str) -> Format | None:
    ext = extension.lower().lstrip(".")
    return next((f for f in FORMATS if f.extension == ext and not f.by_name_only), None)


def by_media_type(media_type: str) -> Format | None:
    essence = media_type.split(";", 1)[0].strip().lower()
    return next((f for f in FORMATS if essence in f.media_types and not f.by_name_only), None)
