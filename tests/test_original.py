"""Provenance to the original (issue 9, point 3): a corpus of the fictional plan
tests/fixtures/ingest_plan.txt published three ways — a PDF printed by headless Chromium, a Word
document whose key-project table sits in a table, a saved web page — and a plain-text plan, built once
for the module. Every span of a published plan is placed in the original (page, paragraph, table cell,
element path); the extracted text and the original are kept with the dumps, served at
``/source/{file}.txt`` and ``/source/{file}`` with their SHA-256; the pages link each passage to its
place in the original (``…/quanbei.pdf#page=2``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV

from mapping import build as b
from mapping.errors import BuildError, ValidationFailed
from mapping.ingest import extract, locate
from mapping.ingest.provenance import OA, RFC3778, SPDX
from mapping.validate import load_ontology, validate
from mapping.vocab import Vocab
from server.app import create_app
from server.settings import Settings
from tests import test_corpus as corpus_tests
from tests.conftest import TestClient
from tests.ingest import tools

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "ingest_plan.txt"
SMALL = REPO / "tests" / "fixtures" / "small_plan.txt"
TITLE = "泉北市推动数字经济和实体经济融合发展三年行动计划"
BASE = "http://127.0.0.1:8000/"
VOCAB = Vocab(BASE)
PK = BASE + "def/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
HTML_ACCEPT = "text/html"
SLUGS = {
    "quanbei.pdf": "quanbei-pdf",
    "quanbei-table.docx": "quanbei-docx",
    "quanbei-page.html": "quanbei-html",
}
KEY_PROJECTS = [
    ("序号", "项目名称", "总投资（亿元）"),
    ("1", "功率半导体封装测试基地（一期）", "45.6"),
    ("2", "泉北数据交易服务平台", "12"),
]


def write_docx_with_table(text: str, out: Path) -> Path:
    """The plan, a body paragraph per non-empty line, and after its last task a key-project table."""
    from docx import Document

    document = Document()
    for line in text.splitlines():
        if line.strip():
            document.add_paragraph(line.strip())
    table = document.add_table(rows=len(KEY_PROJECTS), cols=3)
    for r, row in enumerate(KEY_PROJECTS):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.save(str(out))
    return out


class Built(corpus_tests.Built):
    """The built corpus (root, dist, store as in tests/test_corpus.py), its seeds and plan graphs."""

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    def graph(self, slug: str) -> Graph:
        return Graph().parse(self.dist / f"plan-{slug}.nt", format="nt")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("original")
    seeds = root / "seeds"
    seeds.mkdir()
    text = FIXTURE.read_text(encoding="utf-8")
    tools.print_pdf(tools.plan_html(text, title=TITLE), seeds / "quanbei.pdf")
    write_docx_with_table(text, seeds / "quanbei-table.docx")
    (seeds / "quanbei-page.html").write_text(tools.saved_page(text, title=TITLE), encoding="utf-8")
    shutil.copy(SMALL, seeds / "small.txt")
    for name, slug in SLUGS.items():
        (seeds / (Path(name).stem + ".plan.toml")).write_text(f'slug = "{slug}"\n', encoding="utf-8")
    result = corpus_tests.quiet_build(seeds, root / "dist", root / "var" / "store", VOCAB, use_cache=False)
    return Built(root, result)


@pytest.fixture(scope="module")
def client(built: Built) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(store_dir=built.store, dist_dir=built.dist))) as c:
        yield c


def plan_iri(slug: str, *parts: str) -> URIRef:
    return URIRef("/".join([f"{BASE}id/plan/{slug}", *parts]))


def spans(g: Graph, slug: str) -> dict[URIRef, tuple[int, int, str]]:
    """Every span of the plan's text: (start, end, quote)."""
    out = {}
    for span in g.subjects(OA.hasSource, plan_iri(slug, "source")):
        assert isinstance(span, URIRef)
        selectors = list(g.objects(span, OA.hasSelector))
        start = next(int(g.value(s, OA.start)) for s in selectors if g.value(s, OA.start) is not None)  # type: ignore[arg-type]
        end = next(int(g.value(s, OA.end)) for s in selectors if g.value(s, OA.end) is not None)  # type: ignore[arg-type]
        exact = next(str(g.value(s, OA.exact)) for s in selectors if g.value(s, OA.exact) is not None)
        out[span] = (start, end, exact)
    return out


def places(g: Graph, span: URIRef) -> list[tuple[URIRef, str, str]]:
    """The places of ``span`` in the original, in order: (source, selector type, rdf:value)."""
    found = []
    for place in g.objects(span, URIRef(PK + "inOriginal")):
        selector = g.value(place, OA.hasSelector)
        source, kind, value = (
            g.value(place, OA.hasSource),
            g.value(selector, RDF.type),
            g.value(selector, RDF.value),
        )
        found.append((int(str(place).rsplit("/", 1)[-1]), (str(source), str(kind), str(value))))
    return [f for _, f in sorted(found)]


# --- the graph: span → extracted text → original, with PROV ---------------------------------------


def test_the_extracted_text_is_derived_from_the_original(built: Built) -> None:
    g = built.graph("quanbei-pdf")
    source, original = plan_iri("quanbei-pdf", "source"), plan_iri("quanbei-pdf", "original")
    pdf = built.seeds / "quanbei.pdf"
    kept = built.dist / "sources" / "quanbei.pdf.txt"
    assert kept.read_text(encoding="utf-8") == extract(pdf).text
    assert (source, RDF.type, URIRef(PK + "ExtractedText")) in g
    assert g.value(source, URIRef(PK + "fileName")) == Literal("quanbei.pdf.txt")
    assert g.value(source, URIRef(PK + "sha256")) == Literal(hashlib.sha256(kept.read_bytes()).hexdigest())
    assert g.value(g.value(source, SPDX.checksum), SPDX.checksumValue) == Literal(
        hashlib.sha256(kept.read_bytes()).hexdigest(), datatype=XSD.hexBinary
    )
    assert (source, PROV.wasDerivedFrom, original) in g
    activity = g.value(source, PROV.wasGeneratedBy)
    assert (activity, PROV.used, original) in g
    assert str(g.value(activity, URIRef(PK + "extractionTool"))).startswith("pdfminer.six ")
    assert g.value(original, DCTERMS.title) == Literal("quanbei.pdf")
    assert g.value(original, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/pdf"
    )
    assert g.value(original, DCAT.byteSize) == Literal(pdf.stat().st_size, datatype=XSD.nonNegativeInteger)
    assert g.value(g.value(original, SPDX.checksum), SPDX.checksumValue) == Literal(
        hashlib.sha256(pdf.read_bytes()).hexdigest(), datatype=XSD.hexBinary
    )
    assert g.value(original, URIRef(PK + "pageCount")) == Literal(2, datatype=XSD.integer)
    assert g.value(original, DCAT.downloadURL) == URIRef(BASE + "source/quanbei.pdf")
    # the build record names the original, as it always did
    assert {p.source_name: p.source_sha256 for p in built.result.plans}["quanbei.pdf"] == hashlib.sha256(
        pdf.read_bytes()
    ).hexdigest()


def _comparable(text: str) -> str:
    """White space removed, compatibility forms folded (the print's fonts hold Kangxi radicals for
    some ideographs, ``⾏`` for ``行``) and U+2015 read as the dash it stands for."""
    return unicodedata.normalize("NFKC", re.sub(r"\s+", "", text)).replace("\u2015", "\u2014")


def _page_texts(pdf: Path) -> list[str]:
    """Each page's characters as pdfminer lays them out (an independent read of the pages: no margin
    dropping, no joining), comparable."""
    from pdfminer.high_level import extract_text

    return [_comparable(extract_text(str(pdf), page_numbers=[k])) for k in range(2)]


def test_every_span_of_the_pdf_sits_on_the_page_it_names(built: Built) -> None:
    g = built.graph("quanbei-pdf")
    text = (built.dist / "sources" / "quanbei.pdf.txt").read_text(encoding="utf-8")
    pages = _page_texts(built.seeds / "quanbei.pdf")
    found = spans(g, "quanbei-pdf")
    assert len(found) > 50
    two_pages = 0
    for span, (start, end, exact) in found.items():
        assert text[start:end] == exact  # the offsets count code points of the kept text
        where = places(g, span)
        assert where, span
        assert all(
            s == str(plan_iri("quanbei-pdf", "original")) and t == str(OA.FragmentSelector)
            for s, t, _ in where
        )
        numbers = [int(v.removeprefix("page=")) for _, _, v in where]
        assert numbers == sorted(numbers) and set(numbers) <= {1, 2}
        quote = _comparable(exact)
        if len(numbers) == 1:
            assert quote in pages[numbers[0] - 1], (span, numbers)
        else:
            two_pages += 1
            assert quote not in pages[0] and quote not in pages[1]  # it does cross the page break
    assert two_pages >= 2  # the pillar and task (四) that run onto page 2
    selector = URIRef(f"{plan_iri('quanbei-pdf', 'task', '8')}")
    title = g.value(selector, URIRef(PK + "titleSpan"))
    assert places(g, title) == [
        (str(plan_iri("quanbei-pdf", "original")), str(OA.FragmentSelector), "page=2")
    ]
    place_selector = g.value(g.value(title, URIRef(PK + "inOriginal")), OA.hasSelector)
    assert g.value(place_selector, DCTERMS.conformsTo) == RFC3778
    assert g.value(place_selector, URIRef(PK + "pageNumber")) == Literal(2, datatype=XSD.integer)


def test_docx_table_cells_are_read_in_document_order_with_their_cell(built: Built) -> None:
    g = built.graph("quanbei-docx")
    text = (built.dist / "sources" / "quanbei-table.docx.txt").read_text(encoding="utf-8")
    rows = ["\t".join(row) for row in KEY_PROJECTS]
    assert text.endswith("探索公共数据授权运营。\n" + "\n".join(rows))
    task = plan_iri("quanbei-docx", "task", "8")
    span = next(o for o in g.objects(task, PROV.wasDerivedFrom) if (o, OA.hasSource, None) in g)
    where = [v for _, _, v in places(g, span)]
    paragraphs = len([line for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()])
    cells = [f"/w:document/w:body/w:tbl[1]/w:tr[{r}]/w:tc[{c}]" for r in (1, 2, 3) for c in (1, 2, 3)]
    assert where == [f"/w:document/w:body/w:p[{paragraphs}]", *cells]
    # a selector of a cell names its table, row and cell
    place = next(p for p in g.objects(span, URIRef(PK + "inOriginal")) if str(p).endswith("/original/5"))
    selector = g.value(place, OA.hasSelector)
    assert (selector, RDF.type, OA.XPathSelector) in g
    indices = [g.value(selector, URIRef(PK + n)) for n in ("tableIndex", "rowIndex", "cellIndex")]
    assert indices == [Literal(k, datatype=XSD.integer) for k in (1, 2, 2)]
    start, end, _ = spans(g, "quanbei-docx")[span]
    assert "功率半导体封装测试基地（一期）" in text[start:end]


def test_html_spans_sit_in_the_element_they_name(built: Built) -> None:
    from lxml import html as lxml_html

    g = built.graph("quanbei-html")
    page = lxml_html.fromstring((built.seeds / "quanbei-page.html").read_bytes())
    found = spans(g, "quanbei-html")
    assert len(found) > 50
    for span, (_, _, exact) in found.items():
        where = places(g, span)
        assert where and all(kind == str(OA.XPathSelector) for _, kind, _ in where)
        if len(where) == 1:  # the element at that path holds the quote
            (element,) = page.getroottree().xpath(where[0][2])
            assert _comparable(exact) in _comparable(element.text_content()), span
    title = g.value(plan_iri("quanbei-html", "task", "1"), URIRef(PK + "titleSpan"))
    ((_, _, path),) = places(g, title)
    assert re.fullmatch(r"/html\[1\]/body\[1\]/div\[3\]/div\[2\]/p\[\d+\]", path)  # in div.article


def test_a_plain_text_plan_keeps_its_source_as_it_was(built: Built) -> None:
    small = next(p for p in built.result.plans if p.source_name == "small.txt")
    g = built.graph(small.slug)
    source = plan_iri(small.slug, "source")
    assert g.value(source, URIRef(PK + "fileName")) == Literal("small.txt")
    assert (source, RDF.type, URIRef(PK + "ExtractedText")) not in g
    assert not list(g.triples((None, URIRef(PK + "inOriginal"), None)))
    assert sorted(p.name for p in (built.dist / "sources").iterdir()) == sorted(
        [*SLUGS, *(n + ".txt" for n in SLUGS)]
    )


def test_every_term_the_provenance_emits_is_defined(built: Built) -> None:
    """Each term of ours in the provenance of the published plans (the original, the extracted text,
    the extraction, the places in the original) has a zh and an en label and definition."""
    ontology = load_ontology(VOCAB)
    label, definition = URIRef(RDFS + "label"), URIRef(SKOS + "definition")
    used = {
        t
        for slug in SLUGS.values()
        for triple in built.graph(slug)
        if "/span/" in triple[0] or triple[0].endswith(("/original", "/source", "/extraction", "/sha256"))
        for t in triple
    }
    ours = {t for t in used if isinstance(t, URIRef) and str(t).startswith(PK)}
    assert {URIRef(PK + n) for n in ("ExtractedText", "Extraction", "inOriginal", "pageNumber")} <= ours
    assert {URIRef(PK + n) for n in ("paragraphIndex", "tableIndex", "rowIndex", "cellIndex")} <= ours
    for term in ours:
        for predicate in (label, definition):
            languages = {getattr(o, "language", None) for o in ontology.objects(term, predicate)}
            assert {"zh", "en"} <= languages, (term, predicate)


def test_the_shapes_catch_a_place_without_its_selector(built: Built) -> None:
    whole = built.graph("quanbei-pdf")
    title = whole.value(plan_iri("quanbei-pdf", "task", "8"), URIRef(PK + "titleSpan"))
    place = whole.value(title, URIRef(PK + "inOriginal"))
    # the provenance nodes and one span, so that validating is quick; as built, they conform
    kept = (*(str(plan_iri("quanbei-pdf", p)) for p in ("original", "source", "extraction")), str(title))
    g = Graph()
    for triple in whole:
        if str(triple[0]).startswith(kept):
            g.add(triple)
    assert validate(g, VOCAB.for_plan("quanbei-pdf")).violations == 0
    g.remove((place, OA.hasSelector, None))
    outcome = validate(g, VOCAB.for_plan("quanbei-pdf"))
    assert [line for line in outcome.report_text.splitlines() if line.startswith("Violation")] == [
        f"Violation: <{place}> oa:hasSelector: Less than 1 values on <{place}>->oa:hasSelector "
        "[shape pksh:PlaceInOriginal-selector, sh:MinCountConstraintComponent]",
        f"Violation: <{title}> pk:inOriginal: Value does not conform to Shape pksh:PlaceInOriginal. "
        f"See details for more information. (value <{place}>) "
        "[shape pksh:SpanInOriginal-place, sh:NodeConstraintComponent]",
    ]
    with pytest.raises(ValidationFailed):
        outcome.raise_for_violations()


def test_a_seed_named_like_another_seeds_extracted_text_is_refused(built: Built, tmp_path: Path) -> None:
    shutil.copy(built.seeds / "quanbei.pdf", tmp_path / "quanbei.pdf")
    shutil.copy(SMALL, tmp_path / "quanbei.pdf.txt")
    with pytest.raises(
        BuildError, match=r"quanbei\.pdf\.txt: its name is the name of the text extracted from"
    ):
        b.build(tmp_path, tmp_path / "dist", tmp_path / "store", VOCAB)
    assert not (tmp_path / "dist").exists()


# --- served: the extracted text with its SHA-256, and the original --------------------------------


def test_the_extracted_text_is_served_with_its_sha256(built: Built, client: TestClient) -> None:
    g = built.graph("quanbei-pdf")
    r = client.get("/source/quanbei.pdf.txt")
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
    digest = hashlib.sha256(r.content).digest()
    assert r.content == (built.dist / "sources" / "quanbei.pdf.txt").read_bytes()
    assert r.headers["etag"] == f'"{digest.hex()}"'
    assert r.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert Literal(digest.hex()) == g.value(plan_iri("quanbei-pdf", "source"), URIRef(PK + "sha256"))
    # a user checks a span's offsets against what was served
    served = r.content.decode("utf-8")
    for start, end, exact in spans(g, "quanbei-pdf").values():
        assert served[start:end] == exact
    assert (
        client.get("/source/quanbei.pdf.txt", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    )


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("quanbei.pdf", "application/pdf"),
        ("quanbei-table.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("quanbei-page.html", "text/html"),
    ],
)
def test_the_original_is_served_sandboxed(
    built: Built, client: TestClient, name: str, media_type: str
) -> None:
    r = client.get(f"/source/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type  # no charset added: a saved page names its own
    assert r.content == (built.seeds / name).read_bytes()
    assert r.headers["etag"] == f'"{hashlib.sha256(r.content).hexdigest()}"'
    assert r.headers["content-security-policy"] == "sandbox"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_changed_original_is_not_served(built: Built, client: TestClient, tmp_path: Path) -> None:
    kept = built.dist / "sources" / "quanbei-page.html"
    settings = Settings(store_dir=built.store, dist_dir=tmp_path)
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "quanbei-page.html").write_bytes(kept.read_bytes() + b"<!-- edited -->")
    with TestClient(create_app(settings)) as other:
        assert other.get("/source/quanbei-page.html").status_code == 404
        assert other.get("/source/quanbei.pdf.txt").status_code == 404
    assert client.get("/source/nothing.pdf").status_code == 404


# --- pages: each passage links to its place in the original ----------------------------------------


def _page(client: TestClient, path: str) -> str:
    r = client.get(path, headers={"Accept": HTML_ACCEPT})
    assert r.status_code == 200, r.text
    return r.text


def test_a_task_page_links_each_passage_to_its_pdf_page(client: TestClient) -> None:
    page = _page(client, "/doc/id/plan/quanbei-pdf/task/8")
    assert '<a class="original" href="/source/quanbei.pdf#page=2">page 2 of quanbei.pdf</a>' in page
    assert "#page=1" not in page
    first = _page(client, "/doc/id/plan/quanbei-pdf/task/1")
    assert 'href="/source/quanbei.pdf#page=1"' in first and "#page=2" not in first
    across = _page(client, "/doc/id/plan/quanbei-pdf/task/4")  # runs from page 1 onto page 2
    assert re.search(
        r'href="/source/quanbei.pdf#page=1">page 1 of quanbei.pdf</a>, <a class="original" '
        r'href="/source/quanbei.pdf#page=2">page 2',
        across,
    )


def test_a_docx_passage_names_its_paragraph_and_cells(client: TestClient) -> None:
    page = _page(client, "/doc/id/plan/quanbei-docx/task/8")
    assert (
        '<a class="original" href="/source/quanbei-table.docx">'
        "table 1, row 2, cell 2 of quanbei-table.docx</a>" in page
    )
    assert re.search(r'href="/source/quanbei-table.docx">paragraph \d+ of quanbei-table.docx</a>', page)


def test_an_html_passage_opens_the_page_at_its_text(client: TestClient) -> None:
    page = _page(client, "/doc/id/plan/quanbei-html/task/1")
    from urllib.parse import quote

    fragment = quote("建设泛在连接的通信网络", safe="")
    assert f'href="/source/quanbei-page.html#:~:text={fragment}"' in page


def test_a_plain_text_plan_has_no_original_links(built: Built, client: TestClient) -> None:
    small = next(p for p in built.result.plans if p.source_name == "small.txt")
    page = _page(client, f"/doc/id/plan/{small.slug}/task/1")
    assert 'class="original"' not in page and "passage" in page


def test_the_locations_agree_with_the_extraction(built: Built) -> None:
    """The graph's pages are those ``locate`` gives on a fresh extraction of the seed."""
    g = built.graph("quanbei-pdf")
    ex = extract(built.seeds / "quanbei.pdf")
    for span, (start, end, _) in spans(g, "quanbei-pdf").items():
        assert [f"page={loc.page}" for loc in locate(ex, start, end)] == [v for _, _, v in places(g, span)]


# --- a page read by OCR, through the per-plan step -------------------------------------------------


def test_spans_read_by_ocr_carry_the_engines_confidence_in_the_plans_graph() -> None:
    """A PDF whose page 2 is a scan (the extraction as mapping.ingest.pdf gives it for such a file;
    OCR itself is tested in tests/test_ingest.py): the spans on page 2 are marked read by OCR with the
    character-weighted confidence of the lines they cover; those on page 1 are not."""
    from decimal import Decimal

    import pyoxigraph as ox

    from mapping.corpus import PlanMetadata, Seed
    from mapping.graph import document_graph, plan_heading
    from mapping.ingest import Extracted, Format, Located, Location, LocationKind, OcrSpan

    text = FIXTURE.read_text(encoding="utf-8")
    data = b"%PDF-1.7 a scan, as far as this test is concerned"
    page_break = text.index("二、")
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.start() >= page_break]
    task8 = text.index("（八）")
    confidence = {start: (61.5 if start == task8 else 90.0) for start, _ in lines}
    extracted = Extracted(
        source_name="scan.pdf",
        format=Format.PDF,
        text=text,
        original_sha256=hashlib.sha256(data).hexdigest(),
        byte_size=len(data),
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        locations=(
            Located(0, page_break, Location(LocationKind.PAGE, page=1)),
            Located(page_break, len(text), Location(LocationKind.PAGE, page=2)),
        ),
        ocr_spans=tuple(OcrSpan(s, e, 2, confidence[s], "tesseract 5.3.0", "chi_sim", 200) for s, e in lines),
        tool="pdfminer.six 20260107",
        pages=2,
    )
    output = b.process_plan(
        Seed(Path("scan.pdf"), PlanMetadata(slug="quanbei-scan")),
        text,
        data,
        VOCAB,
        make_graph=document_graph,
        read_heading=plan_heading,
        validator=validate,
        ontology_dir=REPO / "ontology",
        extracted=extracted,
    )
    assert output.summary.violations == 0 and output.extracted_text == text
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in output.quads]
    g = Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    read, conf = URIRef(PK + "readByOcr"), URIRef(PK + "ocrConfidence")
    title8 = g.value(plan_iri("quanbei-scan", "task", "8"), URIRef(PK + "titleSpan"))
    assert g.value(title8, read) == Literal(True)
    assert g.value(title8, conf) == Literal(Decimal("61.50"), datatype=XSD.decimal)
    title7 = g.value(plan_iri("quanbei-scan", "task", "7"), URIRef(PK + "titleSpan"))
    assert g.value(title7, conf) == Literal(Decimal("90.00"), datatype=XSD.decimal)
    title1 = g.value(plan_iri("quanbei-scan", "task", "1"), URIRef(PK + "titleSpan"))
    assert g.value(title1, read) is None and g.value(title1, conf) is None
    # a span over both kinds of line: the mean weighted by the OCR'd characters it covers
    pillar3 = next(o for o in g.objects(plan_iri("quanbei-scan", "pillar", "3"), PROV.wasDerivedFrom))
    start, end, _ = spans(g, "quanbei-scan")[pillar3]  # type: ignore[index]
    covered = [(min(end, e) - max(start, s), confidence[s]) for s, e in lines if s < end and start < e]
    mean = sum(w * c for w, c in covered) / sum(w for w, _ in covered)
    assert 61.5 < mean < 90.0 and g.value(pillar3, conf) == Literal(
        Decimal(f"{mean:.2f}"), datatype=XSD.decimal
    )
    activity = plan_iri("quanbei-scan", "extraction")
    assert set(g.objects(activity, URIRef(PK + "ocrPage"))) == {Literal(2, datatype=XSD.integer)}
    assert g.value(activity, URIRef(PK + "ocrResolution")) == Literal(200, datatype=XSD.integer)


def test_a_cached_plan_still_keeps_its_extracted_text(tmp_path: Path) -> None:
    """The second build takes the plan from the per-plan cache and writes the same sources and graph."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write_docx_with_table(FIXTURE.read_text(encoding="utf-8"), seeds / "plan.docx")
    (seeds / "plan.plan.toml").write_text('slug = "quanbei-docx"\n', encoding="utf-8")
    outputs = []
    for k in (1, 2):
        out = tmp_path / f"out{k}"
        result = corpus_tests.quiet_build(
            seeds, out / "dist", out / "var" / "store", VOCAB, cache_dir=tmp_path / "cache"
        )
        assert result.parsed == (("quanbei-docx",) if k == 1 else ())
        outputs.append(out / "dist")
    for name in ("sources/plan.docx", "sources/plan.docx.txt", "plan-quanbei-docx.nt"):
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes(), name
    assert (outputs[1] / "sources" / "plan.docx").read_bytes() == (seeds / "plan.docx").read_bytes()
