"""mapping.outline: a heading at the start of a line after a full line is told by its numbering.

Text extracted from a PDF wraps paragraphs at a fixed width, so a line that fills the width may run on
into the next; the reader used to take any marker after such a line for text unless the line was
indented. An unindented ``（一）`` right after a part title that fills its line (a long title, or a
document of short lines) was then lost, and the next section ``（二）`` raised "skips a number". Now a
marker there is a heading when the line before holds only the title of the heading just read and its
number is the one the sequence expects; anything else there stays text, as before. The plans below
are fictional.
"""

from __future__ import annotations

import pytest

from mapping.errors import DocumentError
from mapping.outline import read_outline
from mapping.outline_model import Division, NumberingStyle, Outline, Sequencing, Shape

# A part title that fills its line (24 characters, the width the paragraphs wrap at), no indents.
LONG_TITLE = """云溪县推进数字乡村建设实施方案
为推进数字乡村建设，结合本县实际，制定本方案。
一、加快推进乡村数字基础设施和公共服务平台建设
（一）建设乡村信息网络
到2027年，全县行政村5G通达率达到百分之九十以上，推
进光纤网络向自然村延伸，提升农村地区网络覆盖质量。
（二）完善公共服务平台
建设县级数字乡村服务平台，整合政务服务、便民缴费和
农技咨询等功能，实现一站办理。
二、保障措施
（一）加强组织领导
成立工作专班，统筹推进各项任务，定期调度工作进展。
"""

# Short lines everywhere: 一、总体工作要求 on its own line is as wide as the text and counts as full;
# the sections are run-in (title, 。, text).
SHORT_LINES = """石门镇环境整治
工作方案
为改善人居环境，
制定本方案。
一、总体工作要求
（一）工作目标。年
底前完成整治。
（二）基本原则。因
地制宜，分类施策。
二、重点工作任务
（一）清理垃圾。集
中清运积存垃圾，
建立长效机制。
（二）整治污水。完
成管网建设。
"""


def tree(outline: Outline) -> list[tuple[tuple[int, ...], str, str]]:
    def walk(divisions: tuple[Division, ...]) -> list[tuple[tuple[int, ...], str, str]]:
        out = []
        for d in divisions:
            out.append((d.path, d.marker, d.title))
            out += walk(d.children)
        return out

    return walk(outline.divisions)


def test_a_section_after_a_part_title_filling_its_line_is_a_heading() -> None:
    outline = read_outline(LONG_TITLE, source_name="long.txt")
    assert tree(outline) == [
        ((1,), "一、", "加快推进乡村数字基础设施和公共服务平台建设"),
        ((1, 1), "(一)", "建设乡村信息网络"),
        ((1, 2), "(二)", "完善公共服务平台"),
        ((2,), "二、", "保障措施"),
        ((2, 1), "(一)", "加强组织领导"),
    ]
    part = outline.divisions[0]
    assert part.title_span.quote == "加快推进乡村数字基础设施和公共服务平台建设"
    assert part.lead == ""
    section = part.children[0]
    assert section.marker_span.quote == "（一）"
    assert (section.marker_span.start, section.marker_span.end) == (
        LONG_TITLE.index("（一）"),
        LONG_TITLE.index("（一）") + 3,
    )
    assert (
        section.lead
        == "到2027年,全县行政村5G通达率达到百分之九十以上,推进光纤网络向自然村延伸,提升农村地区网络覆盖质量。"
    )
    assert outline.title == "云溪县推进数字乡村建设实施方案"
    assert outline.shape is Shape.GENERAL
    assert [(n.style, n.sequencing) for n in outline.numbering] == [
        (NumberingStyle.CHINESE_COMMA, Sequencing.SINGLE),
        (NumberingStyle.CHINESE_PAREN, Sequencing.RESTART),
    ]


def test_a_section_after_a_short_part_title_in_a_document_of_short_lines_is_a_heading() -> None:
    outline = read_outline(SHORT_LINES, source_name="short.txt")
    assert tree(outline) == [
        ((1,), "一、", "总体工作要求"),
        ((1, 1), "(一)", "工作目标"),
        ((1, 2), "(二)", "基本原则"),
        ((2,), "二、", "重点工作任务"),
        ((2, 1), "(一)", "清理垃圾"),
        ((2, 2), "(二)", "整治污水"),
    ]
    assert outline.title == "石门镇环境整治工作方案"
    cleaning = outline.divisions[1].children[0]
    assert cleaning.lead == "集中清运积存垃圾,建立长效机制。"


def test_the_same_plans_indented_read_the_same() -> None:
    """The indented layout was read right before: the new rule gives it no other answer."""
    for raw in (LONG_TITLE, SHORT_LINES):
        indented = "\n".join(
            "\u3000\u3000" + line if line[:1] in "一二（" else line for line in raw.split("\n")
        )
        assert tree(read_outline(indented, source_name="x.txt")) == tree(
            read_outline(raw, source_name="x.txt")
        )


def test_a_marker_after_a_full_line_of_body_text_stays_text() -> None:
    # （二） starts a line after a full line of a paragraph, not after a heading's title: it runs on.
    raw = LONG_TITLE.replace(
        "进光纤网络向自然村延伸，提升农村地区网络覆盖质量。\n",
        "进光纤网络向自然村延伸，具体按照本方案附件所列第\n（二）项标准执行，提升农村地区网络覆盖质量。\n",
    )
    outline = read_outline(raw, source_name="x.txt")
    assert tree(outline) == tree(read_outline(LONG_TITLE, source_name="x.txt"))
    section = outline.divisions[0].children[0]
    assert "具体按照本方案附件所列第(二)项标准执行" in section.lead


def test_a_marker_after_a_full_title_line_with_the_wrong_number_stays_text() -> None:
    # （二） right after the part title: a heading there would skip (一); the sequence says no, and the
    # line is read as the title running on, no error, as before this rule.
    raw = LONG_TITLE.replace("（一）建设乡村信息网络", "（二）建设乡村信息网络", 1)
    with pytest.raises(DocumentError, match=r"^x\.txt:7:1: heading （二） skips a number: expected \(一\)$"):
        read_outline(raw, source_name="x.txt")


def test_a_title_with_a_stop_on_its_line_is_not_followed_by_a_run_on_heading() -> None:
    # The line before holds more than a title (a sentence after it): the marker runs on, as before.
    raw = LONG_TITLE.replace(
        "一、加快推进乡村数字基础设施和公共服务平台建设\n（一）建设乡村信息网络\n",
        "一、加快推进数字基础设施建设。全县统筹推进，分年实施\n（一）建设乡村信息网络\n",
    )
    with pytest.raises(DocumentError, match=r"^x\.txt:7:1: heading （二） skips a number: expected \(一\)$"):
        read_outline(raw, source_name="x.txt")
