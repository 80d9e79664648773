"""Provenance of an extraction as RDF: the original file, the extracted text derived from it by an
extraction activity (tool, OCR engine and resolution), and for a span of the text where it sits in the
original and whether OCR read it, with what confidence.

The caller mints every IRI (they follow the build's patterns, ``mapping.vocab``); these functions only
take a base for our vocabulary terms (``{base}def/…``). Checksums follow ``mapping.dumps``: an
``spdx:Checksum`` node with algorithm and hex value.

    original ──prov:wasDerivedFrom◄── text ──prov:wasGeneratedBy──► activity ──prov:used──► original
    span (oa:SpecificResource on the text) ──pk:inOriginal──► oa:SpecificResource on the original
        └─ oa:hasSelector: oa:FragmentSelector "page=5" (RFC 3778) / oa:XPathSelector "/html[1]/…"
           (HTML) or "/w:document/w:body/w:p[12]", "…/w:tbl[1]/w:tr[3]/w:tc[2]" (DOCX)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV

from mapping.ingest.model import Extracted, Format, LocationKind, locate, ocr_spans_in

OA = Namespace("http://www.w3.org/ns/oa#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
RFC3778 = URIRef("http://tools.ietf.org/rfc/rfc3778")  # PDF fragment identifiers (page=n)
RFC5147 = URIRef("http://tools.ietf.org/rfc/rfc5147")  # text/plain fragment identifiers (char=a,b)
DOCX_BODY = "/w:document/w:body/w:p[{}]"  # in word/document.xml
DOCX_CELL = "/w:document/w:body/w:tbl[{}]/w:tr[{}]/w:tc[{}]"


@dataclass(frozen=True)
class DocumentIris:
    """IRIs the caller minted for one extraction."""

    original: URIRef  # the file as published (a dcat:Distribution)
    original_checksum: URIRef
    text: URIRef  # the extracted text artefact (what spans' oa:hasSource is)
    text_checksum: URIRef
    activity: URIRef  # the extraction


def _pk(base: str) -> Namespace:
    return Namespace(base + "def/")


def _checksum(g: Graph, node: URIRef, iri: URIRef, digest: str) -> None:
    g.add((node, SPDX.checksum, iri))
    g.add((iri, RDF.type, SPDX.Checksum))
    g.add((iri, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    g.add((iri, SPDX.checksumValue, Literal(digest, datatype=XSD.hexBinary)))


def document_provenance(
    extracted: Extracted,
    iris: DocumentIris,
    *,
    base: str,
    original_url: str | None = None,
    text_url: str | None = None,
) -> Graph:
    """Triples describing the original, the extracted text and the activity between them."""
    pk = _pk(base)
    g = Graph()
    original, text, activity = iris.original, iris.text, iris.activity
    g.add((original, RDF.type, PROV.Entity))
    g.add((original, RDF.type, DCAT.Distribution))
    g.add((original, DCTERMS.title, Literal(extracted.source_name)))
    g.add((original, DCAT.mediaType, URIRef(IANA_MEDIA_TYPES + extracted.media_type)))
    g.add((original, DCAT.byteSize, Literal(extracted.byte_size, datatype=XSD.nonNegativeInteger)))
    _checksum(g, original, iris.original_checksum, extracted.original_sha256)
    if extracted.pages is not None:
        g.add((original, pk.pageCount, Literal(extracted.pages, datatype=XSD.integer)))
    if original_url is not None:
        g.add((original, DCAT.downloadURL, URIRef(original_url)))

    g.add((text, RDF.type, PROV.Entity))
    g.add((text, RDF.type, pk.ExtractedText))
    g.add((text, DCAT.mediaType, URIRef(IANA_MEDIA_TYPES + "text/plain")))
    g.add(
        (text, DCAT.byteSize, Literal(len(extracted.text.encode("utf-8")), datatype=XSD.nonNegativeInteger))
    )
    _checksum(g, text, iris.text_checksum, extracted.text_sha256)
    g.add((text, PROV.wasDerivedFrom, original))
    g.add((text, PROV.wasGeneratedBy, activity))
    if text_url is not None:
        g.add((text, DCAT.downloadURL, URIRef(text_url)))

    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, RDF.type, pk.Extraction))
    g.add((activity, PROV.used, original))
    g.add((activity, pk.extractionTool, Literal(extracted.tool)))
    if extracted.ocr_spans:
        first = extracted.ocr_spans[0]
        g.add((activity, pk.ocrEngine, Literal(first.engine)))
        g.add((activity, pk.ocrLanguage, Literal(first.language)))
        g.add((activity, pk.ocrResolution, Literal(first.dpi, datatype=XSD.integer)))
        pages = sorted({s.page for s in extracted.ocr_spans})
        for page in pages:
            g.add((activity, pk.ocrPage, Literal(page, datatype=XSD.integer)))
    return g


def span_provenance(
    extracted: Extracted,
    span: URIRef,
    start: int,
    end: int,
    *,
    original: URIRef,
    target: Callable[[int], URIRef],
    selector: Callable[[int], URIRef],
    base: str,
) -> Graph:
    """Triples placing the span ``span`` (characters ``[start, end)`` of the extracted text) in the
    original: one ``oa:SpecificResource`` per place it sits (``target(k)``, its selector
    ``selector(k)``, k = 0, 1, … in text order), and, when OCR read any of it, ``pk:readByOcr`` and
    the character-weighted mean ``pk:ocrConfidence`` (0–100) of the OCR'd lines it overlaps."""
    pk = _pk(base)
    g = Graph()
    for k, location in enumerate(locate(extracted, start, end)):
        node, sel = target(k), selector(k)
        g.add((span, pk.inOriginal, node))
        g.add((node, RDF.type, OA.SpecificResource))
        g.add((node, OA.hasSource, original))
        g.add((node, OA.hasSelector, sel))
        if location.kind is LocationKind.PAGE:
            g.add((sel, RDF.type, OA.FragmentSelector))
            g.add((sel, DCTERMS.conformsTo, RFC3778))
            g.add((sel, RDF.value, Literal(location.fragment())))
            g.add((sel, pk.pageNumber, Literal(location.page, datatype=XSD.integer)))
        elif location.kind is LocationKind.TEXT:
            g.add((sel, RDF.type, OA.FragmentSelector))
            g.add((sel, DCTERMS.conformsTo, RFC5147))
            g.add((sel, RDF.value, Literal(location.fragment())))
        elif location.kind is LocationKind.ELEMENT:
            g.add((sel, RDF.type, OA.XPathSelector))
            g.add((sel, RDF.value, Literal(location.path)))
        elif location.kind is LocationKind.CELL:
            assert extracted.format is Format.DOCX
            g.add((sel, RDF.type, OA.XPathSelector))
            g.add((sel, RDF.value, Literal(DOCX_CELL.format(location.table, location.row, location.cell))))
            g.add((sel, pk.tableIndex, Literal(location.table, datatype=XSD.integer)))
            g.add((sel, pk.rowIndex, Literal(location.row, datatype=XSD.integer)))
            g.add((sel, pk.cellIndex, Literal(location.cell, datatype=XSD.integer)))
        else:
            assert extracted.format is Format.DOCX
            g.add((sel, RDF.type, OA.XPathSelector))
            g.add((sel, RDF.value, Literal(DOCX_BODY.format(location.paragraph))))
            g.add((sel, pk.paragraphIndex, Literal(location.paragraph, datatype=XSD.integer)))
    read = ocr_spans_in(extracted, start, end)
    if read:
        weights = [min(end, s.end) - max(start, s.start) for s in read]
        mean = sum(w * s.confidence for w, s in zip(weights, read, strict=True)) / max(sum(weights), 1)
        g.add((span, pk.readByOcr, Literal(True)))
        g.add((span, pk.ocrConfidence, Literal(Decimal(f"{mean:.2f}"), datatype=XSD.decimal)))
    return g
