"""mapping.ingest.docx on Word documents written by python-docx whose plan text sits partly in tables:
the body read in document order, a table row per line with its cells separated by a tab, each cell's
place (table, row, cell) kept, merged and empty cells, nested tables; the provenance of a cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, XSD, Literal, URIRef

from mapping.ingest import IngestError, LocationKind, extract, locate
from mapping.ingest.model import Location
from mapping.ingest.provenance import OA, span_provenance

BASE = "http://example.org/"
PK = BASE + "def/"


def _document(path: Path) -> Path:
    """A fictional plan: a title, an empty paragraph, a key-project table (a merged header across two
    columns, a cell of two paragraphs, a cell merged down two rows, an empty cell, a nested table),
    then a task paragraph."""
    from docx import Document

    document = Document()
    document.add_paragraph("河川县推进智慧水务建设行动方案")
    document.add_paragraph("")
    table = document.add_table(rows=4, cols=3)
    header = table.cell(0, 1).merge(table.cell(0, 2))
    table.cell(0, 0).text = "序号"
    header.text = "项目"
    table.cell(1, 0).text = "1"
    table.cell(1, 1).text = "城东水厂扩建工程"
    table.cell(1, 2).text = "新增供水能力"
    table.cell(1, 2).add_paragraph("5万吨/日")
    down = table.cell(2, 0).merge(table.cell(3, 0))
    down.text = "2"
    table.cell(2, 1).text = "管网改造\t一期"
    inner = table.cell(3, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "子项"
    inner.cell(0, 1).text = "泵站"
    document.add_paragraph("（一）建设智慧水务平台。到2027年，漏损率降至9%以下。")
    document.save(str(path))
    return path


def test_tables_are_read_in_document_order_a_row_per_line(tmp_path: Path) -> None:
    ex = extract(_document(tmp_path / "plan.docx"))
    assert ex.text.split("\n") == [
        "河川县推进智慧水务建设行动方案",
        "序号\t项目",
        "1\t城东水厂扩建工程\t新增供水能力 5万吨/日",
        "2\t管网改造 一期",  # the cell's own tab is a space: the row stays one line; the third cell is empty
        "子项 泵站",  # row 4: the cell merged down is empty there; the nested table's paragraphs
        "（一）建设智慧水务平台。到2027年，漏损率降至9%以下。",
    ]


def test_each_cell_keeps_its_table_row_and_cell(tmp_path: Path) -> None:
    ex = extract(_document(tmp_path / "plan.docx"))
    places = {ex.text[item.start : item.end]: item.location for item in ex.locations}
    assert places["河川县推进智慧水务建设行动方案"] == Location(LocationKind.PARAGRAPH, paragraph=1)
    # the table does not move the paragraphs' numbers: the task is the third w:p of the body
    assert places["（一）建设智慧水务平台。到2027年，漏损率降至9%以下。"] == Location(
        LocationKind.PARAGRAPH, paragraph=3
    )
    cell = {
        k: Location(LocationKind.CELL, table=1, row=r, cell=c)
        for k, (r, c) in {
            "序号": (1, 1),
            "项目": (1, 2),  # merged across two columns: one w:tc
            "新增供水能力 5万吨/日": (2, 3),
            "2": (3, 1),
            "管网改造 一期": (3, 2),
            "子项 泵站": (4, 2),  # w:tc 1 of row 4 is the merged cell's continuation, empty
        }.items()
    }
    for text, location in cell.items():
        assert places[text] == location, text
    at = ex.text.index("新增供水能力")
    assert locate(ex, at, ex.text.index("子项") + 2) == [
        Location(LocationKind.CELL, table=1, row=2, cell=3),
        Location(LocationKind.CELL, table=1, row=3, cell=1),
        Location(LocationKind.CELL, table=1, row=3, cell=2),
        Location(LocationKind.CELL, table=1, row=4, cell=2),
    ]


def test_a_span_in_a_cell_points_at_the_cell(tmp_path: Path) -> None:
    ex = extract(_document(tmp_path / "plan.docx"))
    start = ex.text.index("城东水厂扩建工程")
    span = URIRef(BASE + "id/span/a")
    g = span_provenance(
        ex,
        span,
        start,
        start + len("城东水厂扩建工程"),
        original=URIRef(BASE + "id/original"),
        target=lambda k: URIRef(f"{span}/original/{k}"),
        selector=lambda k: URIRef(f"{span}/original/{k}/selector"),
        base=BASE,
    )
    selector = URIRef(f"{span}/original/0/selector")
    assert (selector, RDF.type, OA.XPathSelector) in g
    assert g.value(selector, RDF.value) == Literal("/w:document/w:body/w:tbl[1]/w:tr[2]/w:tc[2]")
    assert [g.value(selector, URIRef(PK + n)) for n in ("tableIndex", "rowIndex", "cellIndex")] == [
        Literal(k, datatype=XSD.integer) for k in (1, 2, 2)
    ]
    assert g.value(URIRef(f"{span}/original/0"), OA.hasSource) == URIRef(BASE + "id/original")
    assert (span, URIRef(PK + "inOriginal"), URIRef(f"{span}/original/1")) not in g


def test_a_document_of_empty_tables_has_no_text(tmp_path: Path) -> None:
    from docx import Document

    document = Document()
    document.add_table(rows=2, cols=2)
    document.save(str(tmp_path / "empty.docx"))
    with pytest.raises(IngestError) as caught:
        extract(tmp_path / "empty.docx")
    assert str(caught.value) == (
        f"{tmp_path / 'empty.docx'}: no text: the document's body holds no paragraph or table cell with text"
    )
