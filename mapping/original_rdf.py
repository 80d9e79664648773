"""Provenance to the original of one plan read from a published file (PDF, web page, Word document).

The plan's source node (``{plan}/source``, the ``pk:SourceText`` every span's ``oa:hasSource`` is) is
the extracted text: it is also a ``pk:ExtractedText`` with its SHA-256 (``spdx:checksum``), derived
(``prov:wasDerivedFrom``) from the original ``{plan}/original`` (a ``dcat:Distribution`` with its file
name, media type, size and SHA-256) by the activity ``{plan}/extraction`` (tool, OCR engine, language,
resolution and pages). Each span ``{plan}/span/a-b`` gets ``pk:inOriginal {span}/original/k`` for the
k-th place it sits in the original (page, paragraph, table cell, element path), its selector at
``…/original/k/selector``, and ``pk:readByOcr`` with ``pk:ocrConfidence`` when OCR read it.

Everything comes from the plan's own graph and its extraction: :func:`original_graph` takes one plan
and returns its triples, so it runs wherever that plan's graph is made.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from rdflib import RDF, Graph, Literal, URIRef

from mapping.ingest import Extracted
from mapping.ingest.provenance import DocumentIris, document_provenance, span_provenance
from mapping.vocab import OA, Vocab


def source_url(vocab: Vocab, name: str) -> str:
    """Where the server serves a seed file or an extracted text: ``{base}source/{name}``."""
    return f"{vocab.base}source/{quote(name)}"


def document_iris(vocab: Vocab) -> DocumentIris:
    original, text = vocab.part("original"), vocab.source()
    return DocumentIris(
        original=original,
        original_checksum=URIRef(f"{original}/sha256"),
        text=text,
        text_checksum=URIRef(f"{text}/sha256"),
        activity=vocab.part("extraction"),
    )


def original_graph(extracted: Extracted, graph: Graph, vocab: Vocab) -> Graph:
    """The provenance triples of the plan whose graph is ``graph`` (minted by ``vocab``, the plan's),
    read from the original by ``extracted``: the original, the extracted text, the extraction, and the
    place in the original of every span of ``graph`` that points into the extracted text.

    Raises ``ValueError`` when a span's offsets lie outside the extracted text (a graph made from
    another text)."""
    iris = document_iris(vocab)
    out = document_provenance(
        extracted, iris, base=vocab.base, original_url=source_url(vocab, extracted.source_name)
    )
    spans = {s for s in graph.subjects(OA.hasSource, iris.text) if isinstance(s, URIRef)}
    for span in sorted(spans):
        if (span, RDF.type, OA.SpecificResource) not in graph:
            continue
        start, end = _offsets(graph, span)
        out += span_provenance(
            extracted,
            span,
            start,
            end,
            original=iris.original,
            target=_minter(f"{span}/original/{{}}"),
            selector=_minter(f"{span}/original/{{}}/selector"),
            base=vocab.base,
        )
    return out


def _minter(pattern: str) -> Callable[[int], URIRef]:
    return lambda k: URIRef(pattern.format(k))


def _offsets(graph: Graph, span: URIRef) -> tuple[int, int]:
    for selector in graph.objects(span, OA.hasSelector):
        start, end = graph.value(selector, OA.start), graph.value(selector, OA.end)
        if isinstance(start, Literal) and isinstance(end, Literal):
            return int(start), int(end)
    raise ValueError(f"span {span} has no TextPositionSelector")
