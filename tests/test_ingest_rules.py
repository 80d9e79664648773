"""The rules of mapping.ingest one by one: margins and line joining (reflow), OCR repairs, glyph
repairs of PDF text layers, format sniffing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping.ingest import IngestError
from mapping.ingest.glyphs import fix_glyphs
from mapping.ingest.reflow import Line, drop_margins, is_page_number, page_locations, reflow
from mapping.ingest.repair import RULES, repair
from mapping.ingest.sniff import detect, sniff


def line(page: int, text: str, top: float, *, left: float = 0.1, right: float = 0.9) -> Line:
    return Line(page, text, left, top, right, top + 0.02, char_width=0.03)


@pytest.mark.parametrize(
    "text", ["- 5 -", "—4—", "— 12 —", "－3－", "第5页", "第5页 共9页", "5/9", "Page 5", "7", "一 3 一"]
)
def test_page_number_forms(text: str) -> None:
    assert is_page_number(text)


@pytest.mark.parametrize("text", ["2023年", "（一）", "5G", "1.2万个", "一、总体要求"])
def test_not_page_numbers(text: str) -> None:
    assert not is_page_number(text)


def test_page_numbers_dropped_only_in_the_margin_bands() -> None:
    lines = [line(1, "正文第一行。", 0.1), line(1, "5", 0.5), line(1, "— 1 —", 0.95)]
    assert [ln.text for ln in drop_margins(lines, 1)] == ["正文第一行。", "5"]


def test_running_title_dropped_when_it_recurs_at_the_same_height() -> None:
    lines = []
    for page in (1, 2, 3):
        lines += [line(page, "某某市行动计划", 0.03), line(page, f"第{page}页正文。", 0.2)]
    lines.append(line(1, "某某市行动计划", 0.09))  # the title in the body: another height, outside the band
    kept = [ln.text for ln in drop_margins(lines, 3)]
    assert kept == ["第1页正文。", "第2页正文。", "第3页正文。", "某某市行动计划"]


def test_a_band_line_on_one_page_only_stays() -> None:
    lines = [line(1, "附件", 0.03), line(1, "正文。", 0.2), line(2, "正文。", 0.2)]
    assert [ln.text for ln in drop_margins(lines, 2)] == ["附件", "正文。", "正文。"]


def test_lines_broken_inside_a_paragraph_are_joined() -> None:
    lines = [
        line(1, "扎实推进总投资1611.", 0.1),
        line(1, "69亿元的重点项目，其中", 0.13),
        line(1, "续建项目。", 0.16),
    ]
    text, pieces = reflow(lines)
    assert text == "扎实推进总投资1611.69亿元的重点项目，其中续建项目。"
    assert [(p.start, p.end) for p in pieces] == [(0, 12), (12, 24), (24, 29)]


def test_breaks_kept_before_headings_and_after_sentence_ends() -> None:
    lines = [
        line(1, "推进改造。", 0.1),
        line(1, "二、强化要素保障", 0.13),
        line(1, "（四）加大金融支持，引导社会", 0.16),
        line(1, "资本投入", 0.19),
        line(1, "1.完善机制", 0.22),
        line(1, "（1）建立台账", 0.25),
    ]
    text, _ = reflow(lines)
    assert (
        text
        == "推进改造。\n二、强化要素保障\n（四）加大金融支持，引导社会资本投入\n1.完善机制\n（1）建立台账"
    )


def test_a_short_line_or_an_indent_ends_a_paragraph() -> None:
    short = [line(1, "结合实际", 0.1, right=0.4), line(1, "制定本方案", 0.13)]
    assert reflow(short)[0] == "结合实际\n制定本方案"
    indented = [line(1, "结合实际", 0.1), line(1, "制定本方案", 0.13, left=0.2)]
    assert reflow(indented)[0] == "结合实际\n制定本方案"


def test_latin_words_broken_across_lines_keep_a_space() -> None:
    assert reflow([line(1, "Duty", 0.1), line(1, "Free商店", 0.13)])[0] == "Duty Free商店"


def test_a_paragraph_continues_across_a_page_break() -> None:
    lines = [line(1, "推动济南市与", 0.8), line(2, "山东大学合作。", 0.1)]
    text, pieces = reflow(lines)
    assert text == "推动济南市与山东大学合作。"
    assert [(r.start, r.end, r.location.page) for r in page_locations(pieces)] == [(0, 6, 1), (6, 13, 2)]


# --- OCR repairs: each rule repairs its case and leaves its look-alike alone -------------------------

REPAIRS = {
    "fullwidth-digits": ("到２０２８年", "到2028年", "第一阶段"),
    "dash-between-digits": ("(2026一2028年)", "(2026—2028年)", "一批项目2026年"),
    "page-marker": ("一 5 一", "—5—", "一是加快5项工作"),
    "decimal-point": ("总投资210。5亿元", "总投资210.5亿元", "达到5。2028年"),
    "task-marker-bracket": ("人三十四)开展数字化", "（三十四）开展数字化", "人才(含外籍)"),
    "ten-in-task-marker": ("(四干四)提升卫生", "（四十四）提升卫生", "（一）完善若干千瓦"),
    "ju-not-qu": (
        "一、取力推动科技自立自强，珍力取焦主业",
        "一、聚力推动科技自立自强，聚力聚焦主业",
        "取得突破，珍惜支持",
    ),
}


def test_every_rule_is_tested() -> None:
    assert {rule.name for rule in RULES} == set(REPAIRS)


@pytest.mark.parametrize("name", sorted(REPAIRS))
def test_repair_rule(name: str) -> None:
    broken, repaired, alike = REPAIRS[name]
    assert repair(broken) == repaired
    assert repair(alike) == alike
    assert all(rule.reason for rule in RULES)


def test_bracket_forms_of_a_task_marker() -> None:
    for broken in ("《一)建设", "〈二〉建设", "〈(四)建设", "(五)建设"):
        assert repair(broken).startswith("（") and repair(broken).endswith("建设")
    assert repair("《一带一路》合作") == "《一带一路》合作"


def test_glyphs_of_a_pdf_text_layer() -> None:
    assert fix_glyphs("⼀、聚⼒推动⻝品⾏业") == "一、聚力推动食品行业"
    assert fix_glyphs("（2026―2028年）") == "（2026—2028年）"
    assert fix_glyphs("泉 北 市 推 动") == "泉北市推动"
    assert fix_glyphs("Duty Free 商店 (北方)") == "Duty Free 商店 (北方)"


# --- sniffing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"PK\x03\x04rest", "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html>", "html"),
        (b"<!-- saved --><html lang=zh>", "html"),
        ("一、总体要求".encode(), "text"),
        (b"\xff\xfe\x00a", "binary"),
    ],
)
def test_sniff(data: bytes, kind: str) -> None:
    assert sniff(data) == kind


def test_legacy_word_file_named_docx() -> None:
    with pytest.raises(IngestError) as caught:
        detect(Path("plan.docx"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    assert str(caught.value) == (
        "plan.docx: not a DOCX file: not a zip archive (the bytes are a legacy OLE2 (.doc/.xls) file)"
    )


def test_page_bar_shows_pages_read() -> None:
    import io

    from rich.console import Console

    from mapping.ingest.progress import page_bar

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    with page_bar("OCR plan.pdf", console) as progress:
        progress(1, 3)
        progress(2, 3)
        console.print()  # the live bar renders on refresh; a print forces one
    assert "OCR plan.pdf" in out.getvalue() and "2/3" in out.getvalue()
