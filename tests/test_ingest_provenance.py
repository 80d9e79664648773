"""mapping.ingest.provenance on small extractions: the original, the text derived from it, the
activity, and a span's place in the original with its OCR flag and confidence."""

from __future__ import annotations

from decimal import Decimal

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV

from mapping.ingest import Extracted, Format, Located, Location, LocationKind, OcrSpan
from mapping.ingest.provenance import OA, RFC3778, SPDX, DocumentIris, document_provenance, span_provenance

BASE = "http://example.org/"
PK = BASE + "def/"
ID = BASE + "id/"
IRIS = DocumentIris(
    original=URIRef(ID + "original"),
    original_checksum=URIRef(ID + "original/sha256"),
    text=URIRef(ID + "source"),
    text_checksum=URIRef(ID + "source/sha256"),
    activity=URIRef(ID + "extraction"),
)
TEXT = "一、聚力推进\n（一）建设平台。\n（二）完善机制。"


def scanned() -> Extracted:
    return Extracted(
        source_name="plan.pdf",
        format=Format.PDF,
        text=TEXT,
        original_sha256="ab" * 32,
        byte_size=12345,
        text_sha256="cd" * 32,
        locations=(
            Located(0, 16, Location(LocationKind.PAGE, page=1)),
            Located(16, len(TEXT), Location(LocationKind.PAGE, page=2)),
        ),
        ocr_spans=(
            OcrSpan(7, 15, 1, 90.0, "tesseract 5.3.0", "chi_sim", 200),
            OcrSpan(16, 24, 2, 60.0, "tesseract 5.3.0", "chi_sim", 200),
        ),
        tool="pdfminer.six 20260107; tesseract 5.3.0 (chi_sim, 200 dpi)",
        pages=2,
    )


def test_document_provenance() -> None:
    g = document_provenance(scanned(), IRIS, base=BASE, original_url=BASE + "originals/plan.pdf")
    o, t, a = IRIS.original, IRIS.text, IRIS.activity
    assert (o, RDF.type, DCAT.Distribution) in g and (o, RDF.type, PROV.Entity) in g
    assert g.value(o, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/pdf"
    )
    assert g.value(o, DCAT.byteSize) == Literal(12345, datatype=XSD.nonNegativeInteger)
    assert g.value(o, DCAT.downloadURL) == URIRef(BASE + "originals/plan.pdf")
    assert g.value(IRIS.original_checksum, SPDX.checksumValue) == Literal("ab" * 32, datatype=XSD.hexBinary)
    assert g.value(IRIS.original_checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert g.value(IRIS.text_checksum, SPDX.checksumValue) == Literal("cd" * 32, datatype=XSD.hexBinary)
    assert (t, RDF.type, URIRef(PK + "ExtractedText")) in g
    assert (t, PROV.wasDerivedFrom, o) in g and (t, PROV.wasGeneratedBy, a) in g and (a, PROV.used, o) in g
    assert g.value(a, URIRef(PK + "ocrEngine")) == Literal("tesseract 5.3.0")
    assert g.value(a, URIRef(PK + "ocrResolution")) == Literal(200, datatype=XSD.integer)
    assert set(g.objects(a, URIRef(PK + "ocrPage"))) == {
        Literal(1, datatype=XSD.integer),
        Literal(2, datatype=XSD.integer),
    }
    assert g.value(a, URIRef(PK + "extractionTool")) == Literal(scanned().tool)


def test_span_across_a_page_break_read_by_ocr() -> None:
    span = URIRef(ID + "span/7-24")
    g = span_provenance(
        scanned(),
        span,
        7,
        24,
        original=IRIS.original,
        target=lambda k: URIRef(f"{span}/original/{k}"),
        selector=lambda k: URIRef(f"{span}/original/{k}/selector"),
        base=BASE,
    )
    targets = sorted(g.objects(span, URIRef(PK + "inOriginal")))
    assert targets == [URIRef(f"{span}/original/0"), URIRef(f"{span}/original/1")]
    pages = []
    for node in targets:
        assert g.value(node, OA.hasSource) == IRIS.original
        selector = g.value(node, OA.hasSelector)
        assert (selector, RDF.type, OA.FragmentSelector) in g
        assert g.value(selector, DCTERMS.conformsTo) == RFC3778
        pages.append(str(g.value(selector, RDF.value)))
    assert pages == ["page=1", "page=2"]
    assert g.value(span, URIRef(PK + "readByOcr")) == Literal(True)
    # 8 characters at 90 and 8 at 60
    assert g.value(span, URIRef(PK + "ocrConfidence")) == Literal(Decimal("75.00"), datatype=XSD.decimal)


def test_span_in_a_web_page_and_a_word_file_has_no_ocr() -> None:
    page = Extracted(
        "plan.html",
        Format.HTML,
        TEXT,
        "0" * 64,
        10,
        "1" * 64,
        (Located(0, len(TEXT), Location(LocationKind.ELEMENT, path="/html[1]/body[1]/div[2]/p[3]")),),
        (),
        "jusText 3.0.2",
    )
    word = Extracted(
        "plan.docx",
        Format.DOCX,
        TEXT,
        "0" * 64,
        10,
        "1" * 64,
        (Located(0, len(TEXT), Location(LocationKind.PARAGRAPH, paragraph=5)),),
        (),
        "python-docx 1.2.0",
    )
    span = URIRef(ID + "span/0-3")
    values = []
    for extracted in (page, word):
        g = span_provenance(
            extracted,
            span,
            0,
            3,
            original=IRIS.original,
            target=lambda k: URIRef(f"{span}/o{k}"),
            selector=lambda k: URIRef(f"{span}/o{k}/s"),
            base=BASE,
        )
        selector = URIRef(f"{span}/o0/s")
        assert (selector, RDF.type, OA.XPathSelector) in g
        values.append(str(g.value(selector, RDF.value)))
        assert (span, URIRef(PK + "readByOcr"), None) not in g
    assert values == ["/html[1]/body[1]/div[2]/p[3]", "/w:document/w:body/w:p[5]"]


def test_every_term_it_emits_is_in_the_ontology() -> None:
    from mapping.validate import load_ontology
    from mapping.vocab import Vocab

    ontology = load_ontology(Vocab(BASE))
    g = Graph()
    g += document_provenance(scanned(), IRIS, base=BASE)
    g += span_provenance(
        scanned(),
        URIRef(ID + "s"),
        0,
        20,
        original=IRIS.original,
        target=lambda k: URIRef(f"{ID}t{k}"),
        selector=lambda k: URIRef(f"{ID}s{k}"),
        base=BASE,
    )
    used = {p for p in g.predicates() if str(p).startswith(PK)} | {
        o for o in g.objects(None, RDF.type) if str(o).startswith(PK)
    }
    assert len(used) >= 10
    assert {str(t) for t in used if (t, None, None) not in ontology} == set()
