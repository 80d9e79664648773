"""mapping.text: normalisation of PDF-extracted text and the map back to source offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping.text import normalise, page_marker_ranges

SEED = Path(__file__).resolve().parent.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"


def assert_map_is_exact(raw: str) -> None:
    """Every normalised character comes from one source character, in order, unchanged or folded."""
    norm = normalise(raw)
    assert len(norm.origins) == len(norm.text)
    assert list(norm.origins) == sorted(set(norm.origins))
    for ch, origin in zip(norm.text, norm.origins, strict=True):
        source = raw[origin]
        folded = chr(ord(source) - 0xFEE0) if "\uff01" <= source <= "\uff5e" else source
        assert ch == folded or (ch == " " and source.isspace())


@pytest.mark.parametrize(
    "marker",
    [
        "—4—",
        "— 4 —",
        "- 4 -",
        "-4-",
        "－4－",
        "－４－",
        "–12–",
        "――3――",
        "第4页",
        "第 4 页",
        "第4页 共20页",
        "第4页/共20页",
        "4/20",
        "4 / 20",
        "Page 4",
        "page 4 of 20",
        "\u3000—4—\u3000",
    ],
)
def test_page_marker_on_its_own_line_is_removed(marker: str) -> None:
    raw = f"数据中心和产业\n{marker}\n大脑。"
    assert normalise(raw).text == "数据中心和产业大脑。"


@pytest.mark.parametrize(
    "raw", ["数据中心和产业大脑。—4—(九)建设", "产业大脑。\n—4\n—(九)建设", "大脑。 - 4 - (九)建设"]
)
def test_dash_page_marker_glued_to_the_text_is_removed(raw: str) -> None:
    assert normalise(raw).text.endswith("大脑。(九)建设")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("引进3—5家", "引进3—5家"),  # a range, not a page marker
        ("见第4页。", "见第4页。"),  # inside a sentence
        ("占1/3以上", "占1/3以上"),
        ("a - 4 - b", "a-4-b"),  # letters on both sides
        ("(2023—2025年)", "(2023—2025年)"),
        ("共\n4\n个", "共4个"),  # a bare number on its own line is kept
    ],
)
def test_text_that_only_looks_like_a_page_marker_is_kept(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("高水平创新型城市建设\n\n上先行一步", "高水平创新型城市建设上先行一步"),
        ("总投资854.58亿\n\n元", "总投资854.58亿元"),
        ("1292.\n2亿元", "1292.2亿元"),
        ("AIR\nSAT卫星", "AIRSAT卫星"),
        ("a\r\nb\rc\u2028d\x0ce", "abcde"),
        ("数据中心 (北方)\n等", "数据中心(北方)等"),
        ("全面落实 《国务院", "全面落实《国务院"),
        ("坚持 “技术攻关+产业化应用”,实施", "坚持“技术攻关+产业化应用”,实施"),
        ("“国字号” “中字头”", "“国字号”“中字头”"),
        ("\u3000\u3000为深入贯彻", "为深入贯彻"),
        ("LAOX 跨境", "LAOX跨境"),
        ("LAOX Duty  \u3000Free", "LAOX Duty Free"),
        ("Duty \n Free", "DutyFree"),
        ("总投资12\n 34亿元", "总投资1234亿元"),
        ("制度,\n  2023年", "制度,2023年"),
        ("Hello, world", "Hello,world"),
        ("  \n前后空白\n \u3000 ", "前后空白"),
        ("\ufeff标题", "标题"),
    ],
)
def test_lines_are_joined_and_stray_spaces_dropped(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("（一）构建，推进：落实；好！吗？", "(一)构建,推进:落实;好!吗?"),
        ("１２３４．５６亿元，增长８％", "1234.56亿元,增长8%"),
        ("﹙北方﹚", "(北方)"),
        ("ＲＥＩＴｓ", "REITs"),
        ("。、“”《》", "。、“”《》"),
    ],
)
def test_full_width_forms_map_to_ascii(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


def test_span_quotes_the_original_including_breaks_and_markers() -> None:
    raw = "总投资854.58亿\n\n元。\n—4—\n\n（九）建设"
    norm = normalise(raw)
    i = norm.text.index("854.58亿元")
    span = norm.span(i, i + len("854.58亿元"))
    assert span.quote == "854.58亿\n\n元"
    assert raw[span.start : span.end] == span.quote
    j = norm.text.index("。(九)")
    span = norm.span(j, j + 3)
    assert span.quote == "。\n—4—\n\n（九"
    assert span.start == raw.index("。")


def test_empty_span_and_offsets_at_the_ends() -> None:
    raw = "\n\n甲乙\n"
    norm = normalise(raw)
    assert norm.text == "甲乙"
    assert norm.raw_offset(0) == 2
    assert norm.raw_offset(2) == 4
    assert norm.span(1, 1).quote == ""
    assert norm.span(1, 1).start == 3
    assert normalise("").span(0, 0).start == 0
    with pytest.raises(IndexError):
        norm.span(1, 3)


def test_seed_map_is_exact_and_markers_found() -> None:
    raw = SEED.read_text(encoding="utf-8")
    assert_map_is_exact(raw)
    ranges = page_marker_ranges(raw)
    assert [raw[a:b] for a, b in ranges] == ["—4—"]
    text = normalise(raw).text
    assert "\n" not in text and "\u3000" not in text and "—4—" not in text
    assert " " not in text  # every space of the seed is next to a CJK character


def test_every_span_of_the_seed_quotes_its_source() -> None:
    raw = SEED.read_text(encoding="utf-8")
    norm = normalise(raw)
    step = 7
    for i in range(0, len(norm.text), step):
        span = norm.span(i, min(i + step * 3, len(norm.text)))
        assert raw[span.start : span.end] == span.quote
        assert normalise(span.quote).text == norm.text[i : min(i + step * 3, len(norm.text))]
