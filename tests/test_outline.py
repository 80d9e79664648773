"""mapping.outline: the GB/T 9704 heading reader on the fictional corpus, the Jinan genre and bad input."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapping.entities import CatalogueError
from mapping.errors import DocumentError, Location
from mapping.model import Span
from mapping.outline import RoleRules, load_role_rules, read_outline, role_of, shape_of
from mapping.outline_model import NumberingStyle, Outline, Role, Sequencing, Shape
from mapping.parser import find_statistics, parse_plan
from mapping.text import normalise
from tests import seed
from tests.test_parser import VARIANTS, scrambled

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
MALFORMED = CORPUS / "malformed"
SMALL_PLAN = Path(__file__).resolve().parent / "fixtures" / "small_plan.txt"
PROVINCE = CORPUS / "donghai-industry-green-transition-2024-2026.txt"
CITY = CORPUS / "qingchuan-industry-green-transition-2024-2026.txt"
ACROSS = CORPUS / "bailu-county-commerce-2023-2025.txt"
DEEP = CORPUS / "yunling-digital-economy.txt"

# Read by hand from the fixtures: path, marker as printed, number, title, role, and where the
# division begins and ends (line:column of its first and last character in the file).
ACROSS_TREE = [
    ((1,), "一、", 1, "完善县域商业网络", "action", "6:3", "19:9"),
    ((1, 1), "（一）", 1, "改造提升县城商业设施", "action", "7:3", "11:21"),
    ((1, 2), "（二）", 2, "建设乡镇商贸中心", "action", "12:3", "16:26"),
    ((1, 3), "（三）", 3, "发展村级便民商店", "action", "17:3", "19:9"),
    ((2,), "二、", 2, "畅通农村物流配送", "action", "20:3", "31:14"),
    ((2, 1), "（四）", 4, "建设县级物流配送中心", "action", "21:3", "25:6"),
    ((2, 2), "（五）", 5, "完善乡村物流站点", "action", "26:3", "31:14"),
    ((3,), "三、", 3, "培育县域商业主体", "action", "32:3", "44:29"),
    ((3, 1), "（六）", 6, "壮大商贸流通企业", "action", "33:3", "36:6"),
    ((3, 2), "（七）", 7, "发展农村电子商务", "action", "37:3", "40:21"),
    ((3, 3), "（八）", 8, "做强农产品供应链", "action", "41:3", "44:29"),
    ((4,), "四、", 4, "保障措施", "frame", "45:3", "52:6"),
    ((4, 1), "（九）", 9, "加强组织协调", "frame", "46:3", "48:24"),
    ((4, 2), "（十）", 10, "强化资金支持", "frame", "49:3", "52:6"),
]

PROVINCE_TREE = [
    ((1,), "一、", 1, "总体要求", "frame", "8:3", "21:27"),
    ((1, 1), "（一）", 1, "指导思想", "frame", "9:3", "14:9"),
    ((1, 2), "(二)", 2, "主要目标", "frame", "15:3", "21:27"),
    ((2,), "二、", 2, "重点任务", "action", "22:3", "50:26"),
    ((2, 1), "（一）", 1, "推动产业结构优化升级", "action", "23:3", "41:10"),
    ((2, 1, 1), "1．", 1, "严控高耗能项目盲目发展", "action", "24:3", "27:14"),
    ((2, 1, 2), "2.", 2, "加快传统产业改造提升", "action", "28:3", "37:17"),
    ((2, 1, 2, 1), "（1）", 1, "钢铁行业", "action", "30:3", "32:6"),
    ((2, 1, 2, 2), "(2)", 2, "建材行业", "action", "33:3", "35:7"),
    ((2, 1, 2, 3), "（3）", 3, "石化行业", "action", "36:3", "37:17"),
    ((2, 1, 3), "３．", 3, "培育壮大绿色低碳产业", "action", "38:3", "41:10"),
    (
        (2, 2),
        "（二）",
        2,
        "加快推动重点行业节能降碳改造和数字化智能化绿色化协同发展",
        "action",
        "42:3",
        "50:26",
    ),
    ((2, 2, 1), "1．", 1, "实施节能降碳技术改造", "action", "44:3", "47:3"),
    ((2, 2, 2), "2．", 2, "推进数字化赋能绿色化", "action", "48:3", "50:26"),
    ((3,), "三、", 3, "重点工程", "action", "51:3", "65:19"),
    ((3, 1), "（一）", 1, "绿色制造示范工程", "action", "52:3", "57:4"),
    ((3, 1, 1), "1.", 1, "创建绿色工厂和绿色园区", "action", "53:3", "57:4"),
    ((3, 2), "（二）", 2, "资源循环利用工程", "action", "58:3", "65:19"),
    ((3, 2, 1), "1．", 1, "推进工业固体废物综合利用", "action", "59:3", "62:13"),
    ((3, 2, 2), "2．", 2, "完善再生资源回收体系", "action", "63:3", "65:19"),
    ((4,), "四、", 4, "保障措施", "frame", "66:3", "77:26"),
    ((4, 1), "（一）", 1, "加强组织领导", "frame", "67:3", "70:26"),
    ((4, 2), "（二）", 2, "强化政策支持", "frame", "71:3", "74:19"),
    ((4, 3), "（三）", 3, "严格督导考核", "frame", "75:3", "77:26"),
]

CITY_TREE = [
    ((1,), "一、", 1, "总体要求", "frame", "8:3", "20:25"),
    ((1, 1), "（一）", 1, "基本原则", "frame", "9:3", "14:27"),
    ((1, 2), "（二）", 2, "发展目标", "frame", "15:3", "20:25"),
    ((2,), "二、", 2, "重点行动", "action", "21:3", "40:27"),
    ((2, 1), "（一）", 1, "园区循环化改造行动", "action", "22:3", "31:15"),
    ((2, 1, 1), "1．", 1, "完善园区基础设施", "action", "23:3", "28:4"),
    ((2, 1, 2), "2．", 2, "建设园区能碳管理平台", "action", "29:3", "31:15"),
    ((2, 2), "（二）", 2, "清洁能源替代行动", "action", "32:3", "40:27"),
    ((2, 2, 1), "1．", 1, "扩大可再生能源应用", "action", "33:3", "37:7"),
    ((2, 2, 2), "2．", 2, "推广电能替代", "action", "38:3", "40:27"),
    ((3,), "三、", 3, "重点项目", "action", "41:3", "51:13"),
    ((3, 1), "（一）", 1, "节能改造项目", "action", "42:3", "47:13"),
    ((3, 2), "（二）", 2, "资源综合利用项目", "action", "48:3", "51:13"),
    ((4,), "四、", 4, "组织实施", "frame", "52:3", "61:16"),
    ((4, 1), "（一）", 1, "压实工作责任", "frame", "53:3", "56:3"),
    ((4, 2), "（二）", 2, "加强要素保障", "frame", "57:3", "61:16"),
]

DEEP_TREE = [
    ((1,), "一、", 1, "发展目标", "frame", "5:3", "10:2"),
    ((2,), "二、", 2, "主要任务", "action", "11:3", "41:3"),
    ((2, 1), "（一）", 1, "夯实数字基础设施", "action", "12:3", "27:17"),
    ((2, 1, 1), "1．", 1, "建设新型网络设施", "action", "13:3", "23:14"),
    ((2, 1, 1, 1), "（1）", 1, "5G网络", "action", "15:3", "20:5"),
    ((2, 1, 1, 1, 1), "①", 1, "编制全市5G基站布局规划,将基站站址纳入国土空间规划", "action", "17:3", "18:3"),
    (
        (2, 1, 1, 1, 2),
        "②",
        2,
        "开放公共建筑和杆塔资源,免费用于基站建设,降低建设成本",
        "action",
        "19:3",
        "20:5",
    ),
    ((2, 1, 1, 2), "（2）", 2, "千兆光网", "action", "21:3", "23:14"),
    ((2, 1, 2), "2．", 2, "布局算力基础设施", "action", "24:3", "27:17"),
    ((2, 2), "（二）", 2, "培育数字产业集群", "action", "28:3", "41:3"),
    ((2, 2, 1), "1．", 1, "发展电子信息制造业", "action", "29:3", "34:2"),
    ((2, 2, 2), "2．", 2, "壮大软件和信息技术服务业", "action", "35:3", "41:3"),
    ((2, 2, 2, 1), "（1）", 1, "对首次入选国家规划布局内重点软件企业的给予奖励", "action", "38:3", "39:3"),
    ((2, 2, 2, 2), "（2）", 2, "对获得软件能力成熟度模型集成认证的企业给予补助", "action", "40:3", "41:3"),
    ((3,), "三、", 3, "重点工程", "action", "42:3", "50:18"),
    ((3, 1), "1．", 1, "智能工厂示范工程", "action", "43:3", "46:27"),
    ((3, 2), "2．", 2, "城市大脑工程", "action", "47:3", "50:18"),
    ((4,), "四、", 4, "保障措施", "frame", "51:3", "58:2"),
    ((4, 1), "1．", 1, "加强组织领导", "frame", "52:3", "54:23"),
    ((4, 2), "2．", 2, "加大政策支持", "frame", "55:3", "58:2"),
]


GOLDEN = {
    PROVINCE: PROVINCE_TREE,
    CITY: CITY_TREE,
    ACROSS: ACROSS_TREE,
    DEEP: DEEP_TREE,
}


def read(path: Path) -> tuple[str, Outline]:
    raw = path.read_text(encoding="utf-8")
    return raw, read_outline(raw, source_name=path.name)


def where(raw: str, offset: int) -> str:
    location = Location.at("", raw, offset)
    return f"{location.line}:{location.column}"


@pytest.mark.parametrize("path", list(GOLDEN), ids=lambda p: p.name)
def test_golden_tree(path: Path) -> None:
    raw, outline = read(path)
    tree = [
        (
            d.path,
            d.marker_span.quote,
            d.number,
            d.title,
            d.role.value,
            where(raw, d.span.start),
            where(raw, d.span.end - 1),
        )
        for d in outline.walk()
    ]
    assert tree == GOLDEN[path]


def test_the_provincial_plan_reads_title_period_preamble_and_levels() -> None:
    _, outline = read(PROVINCE)
    assert outline.title == "东海省推进工业绿色低碳转型实施方案(2024—2026年)"
    assert outline.title_span.quote == "东海省推进工业绿色低碳转型实施方案\n（2024—2026年）"
    assert outline.period == (2024, 2026)
    assert outline.period_span is not None and outline.period_span.quote == "（2024—2026年）"
    assert outline.preamble.startswith(
        "为贯彻落实《国务院关于加快构建绿色制造体系的若干意见》(国发〔2022〕31号),"
    )
    assert outline.preamble.endswith("结合我省实际,制定本方案。")
    assert [len(outline.at_level(n)) for n in (1, 2, 3, 4, 5)] == [4, 9, 8, 3, 0]
    goals = outline.find((1, 2))
    assert goals.style is NumberingStyle.CHINESE_PAREN and goals.marker == "(二)" and goals.numeral == "二"
    assert goals.lead.startswith("到2025年,全省规模以上工业单位增加值能耗较2020年下降16%以上,")
    assert "达到60%以上,绿色工厂数量" in goals.lead  # the page marker —3— inside the paragraph is gone
    assert "—3—" in goals.lead_span.quote
    item = outline.find((2, 1, 3))
    assert (item.style, item.marker, item.numeral, item.number) == (NumberingStyle.ARABIC_POINT, "3.", "3", 3)
    assert item.marker_span.quote == "３．"
    sub = outline.find((2, 1, 2, 2))
    assert (sub.style, sub.level, sub.order, sub.parent) == (NumberingStyle.ARABIC_PAREN, 4, 2, (2, 1, 2))


def test_a_heading_that_wraps_onto_the_next_line_keeps_its_whole_title() -> None:
    _, outline = read(PROVINCE)
    section = outline.find((2, 2))
    assert section.title == "加快推动重点行业节能降碳改造和数字化智能化绿色化协同发展"
    assert section.title_span.quote == "加快推动重点行业节能降碳改造和数字化智能化\n绿色化协同发展"
    assert section.lead == ""  # its first item follows at once


def test_run_in_titles_end_at_their_stop_and_the_lead_follows() -> None:
    _, outline = read(PROVINCE)
    item = outline.find((2, 1, 2))
    assert item.title == "加快传统产业改造提升"
    assert item.lead == "围绕钢铁、建材、石化、纺织等行业,实施一批节能降碳技术改造项目。主要包括:"
    assert item.text.startswith("加快传统产业改造提升。围绕")
    assert item.text.endswith("提高副产气体和余热余压的利用水平。")  # its sub-items are its text too
    steel = outline.find((2, 1, 2, 1))
    assert steel.title == "钢铁行业"
    assert steel.text == (
        "钢铁行业。推广高炉炉顶均压煤气回收、烧结余热发电等技术,"
        "到2025年完成超低排放改造的产能比例达到80%以上;"
    )


def spans_of(node: Any, path: str = "outline") -> Iterator[tuple[str, Span]]:
    if isinstance(node, Span):
        yield path, node
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from spans_of(getattr(node, f.name), f"{path}.{f.name}")
    elif isinstance(node, tuple):
        for k, item in enumerate(node):
            yield from spans_of(item, f"{path}[{k}]")


@pytest.mark.parametrize("path", [*GOLDEN, SMALL_PLAN, seed.SEED], ids=lambda p: p.name)
def test_every_span_quotes_the_file_as_shipped(path: Path) -> None:
    raw, outline = read(path)
    spans = list(spans_of(outline))
    assert len(spans) > 10
    for name, span in spans:
        assert span.quote == raw[span.start : span.end], name
    for d in outline.walk():
        assert normalise(d.title_span.quote).text == d.title
        assert normalise(d.span.quote).text == d.marker + d.text
        assert normalise(d.lead_span.quote).text == d.lead
        assert d.span.start == d.marker_span.start and d.marker_span.end <= d.title_span.start
        for child in d.children:
            assert d.span.start < child.span.start and child.span.end <= d.span.end
            assert child.level == d.level + 1 and child.parent == d.path


@pytest.mark.parametrize("path", [*GOLDEN, SMALL_PLAN, seed.SEED], ids=lambda p: p.name)
def test_crlf_line_endings_read_alike(path: Path) -> None:
    raw, outline = read(path)
    crlf = raw.replace("\n", "\r\n")
    other = read_outline(crlf, source_name=path.name)
    assert [(d.path, d.marker, d.title, d.text) for d in other.walk()] == [
        (d.path, d.marker, d.title, d.text) for d in outline.walk()
    ]
    for d in other.walk():
        assert crlf[d.span.start : d.span.end] == d.span.quote


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            PROVINCE,
            {
                NumberingStyle.CHINESE_COMMA: (Sequencing.SINGLE, None),
                NumberingStyle.CHINESE_PAREN: (Sequencing.RESTART, (2, 1)),
                NumberingStyle.ARABIC_POINT: (Sequencing.RESTART, (2, 2, 1)),
                NumberingStyle.ARABIC_PAREN: (Sequencing.SINGLE, None),
            },
        ),
        (
            ACROSS,
            {
                NumberingStyle.CHINESE_COMMA: (Sequencing.SINGLE, None),
                NumberingStyle.CHINESE_PAREN: (Sequencing.ACROSS, (2, 1)),
            },
        ),
        (
            DEEP,
            {
                NumberingStyle.CHINESE_COMMA: (Sequencing.SINGLE, None),
                NumberingStyle.CHINESE_PAREN: (Sequencing.SINGLE, None),
                NumberingStyle.ARABIC_POINT: (Sequencing.RESTART, (2, 2, 1)),
                NumberingStyle.ARABIC_PAREN: (Sequencing.RESTART, (2, 2, 2, 1)),
                NumberingStyle.CIRCLED: (Sequencing.SINGLE, None),
            },
        ),
        (
            seed.SEED,
            {
                NumberingStyle.CHINESE_COMMA: (Sequencing.SINGLE, None),
                NumberingStyle.CHINESE_PAREN: (Sequencing.ACROSS, (2, 1)),
            },
        ),
    ],
    ids=lambda p: getattr(p, "name", ""),
)
def test_restart_or_across_is_read_from_the_text(
    path: Path, expected: dict[NumberingStyle, tuple[Sequencing, tuple[int, ...] | None]]
) -> None:
    _, outline = read(path)
    assert {n.style: (n.sequencing, n.decided_at) for n in outline.numbering} == expected


def test_the_division_at_an_offset_is_the_deepest_holding_it() -> None:
    raw, outline = read(PROVINCE)
    steel = raw.index("钢铁行业。推广")
    assert outline.at_offset(steel) == outline.find((2, 1, 2, 1))
    assert outline.at_offset(raw.index("主要包括")) == outline.find((2, 1, 2))
    assert outline.at_offset(raw.index("二、重点任务")) == outline.find((2,))
    assert outline.at_offset(raw.index("结合我省实际")) is None  # the preamble
    assert outline.at_offset(len(raw) + 5) is None


def test_the_deep_plan_has_five_levels_and_gaps() -> None:
    _, outline = read(DEEP)
    assert outline.title == "云岭市数字经济高质量发展实施方案" and outline.period is None
    circled = outline.find((2, 1, 1, 1, 2))
    assert (circled.level, circled.style, circled.number, circled.marker) == (
        5,
        NumberingStyle.CIRCLED,
        2,
        "②",
    )
    # Items 1. directly under a part: GB/T rank 3 at depth 2.
    project = outline.find((3, 1))
    assert (project.level, project.style.rank, project.title) == (2, 3, "智能工厂示范工程")


# -- the Jinan genre ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [seed.SEED, SMALL_PLAN], ids=lambda p: p.name)
def test_the_jinan_genre_reads_as_the_parser_reads_it(path: Path) -> None:
    """mapping.parser stays the source of truth for the genre: the general reader must agree with it
    on every pillar and task (number, numeral, title, title span, span, text, parent, order)."""
    raw, outline = read(path)
    plan = parse_plan(raw, source_name=path.name)
    assert (outline.title, outline.title_span, outline.period, outline.period_span) == (
        plan.title,
        plan.title_span,
        plan.period,
        plan.period_span,
    )
    assert (outline.preamble, outline.preamble_span) == (plan.preamble, plan.preamble_span)
    parts = outline.at_level(1)
    assert [(d.number, d.numeral, d.title, d.title_span, d.span) for d in parts] == [
        (p.number, p.numeral, p.title, p.title_span, p.span) for p in plan.pillars
    ]
    tasks = outline.at_level(2)
    assert [
        (d.number, d.numeral, d.title, d.title_span, d.span, d.text, d.parent, d.order) for d in tasks
    ] == [
        (t.number, t.numeral, t.title, t.title_span, t.span, t.text, (t.pillar,), t.order) for t in plan.tasks
    ]
    assert not outline.at_level(3)
    assert shape_of(outline) is Shape.PILLARS_AND_TASKS


def assert_reads_as_the_parser(raw: str) -> None:
    outline = read_outline(raw, source_name="variant.txt")
    plan = parse_plan(raw, source_name="variant.txt")
    assert shape_of(outline) is Shape.PILLARS_AND_TASKS
    assert [(d.number, d.title, d.title_span, d.span) for d in outline.at_level(1)] == [
        (p.number, p.title, p.title_span, p.span) for p in plan.pillars
    ]
    assert [(d.number, d.title, d.title_span, d.span, d.text) for d in outline.at_level(2)] == [
        (t.number, t.title, t.title_span, t.span, t.text) for t in plan.tasks
    ]
    assert not outline.at_level(3)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_layout_variants_of_the_seed_read_as_the_parser_reads_them(name: str) -> None:
    """No line breaks, lines re-broken at 13 or 40, full-width forms, other page markers, stray
    spaces and indents, CRLF: the genre's titles do not depend on the layout of the lines."""
    assert_reads_as_the_parser(VARIANTS[name](seed.raw()))


@pytest.mark.parametrize("seed_number", range(20))
def test_scrambled_layouts_of_the_seed_read_as_the_parser_reads_them(seed_number: int) -> None:
    assert_reads_as_the_parser(scrambled(seed_number))


def test_find_statistics_finds_the_openers_of_the_genre() -> None:
    text = "聚力培育绿色制造体系,在产业转型上走在前列认真抓好3项重点工作,扎实推进总投资210.5亿元"
    assert find_statistics(text, 0, len(text)) == text.index("认真抓好")
    assert find_statistics(text, text.index("扎实"), len(text)) == text.index("扎实推进")
    assert find_statistics("推进总投资", 0, 5) == 0
    assert find_statistics("加强组织领导。各部门抓好落实。", 0, 15) is None


def test_the_seed_has_ten_parts_and_forty_nine_tasks_numbered_across() -> None:
    _, outline = read(seed.SEED)
    assert len(outline.at_level(1)) == 10
    assert [d.number for d in outline.at_level(2)] == list(range(1, 50))
    assert [len(p.children) for p in outline.divisions] == [6, 5, 5, 5, 6, 4, 4, 5, 5, 4]
    assert {d.role for d in outline.walk()} == {Role.ACTION}
    assert outline.divisions[0].lead.startswith("认真抓好6项重点工作,扎实推进总投资1920.83亿元")


@pytest.mark.parametrize("path", list(GOLDEN), ids=lambda p: p.name)
def test_the_fixtures_are_of_the_general_shape(path: Path) -> None:
    _, outline = read(path)
    assert shape_of(outline) is Shape.GENERAL


def test_a_pillar_plan_whose_tasks_restart_is_not_the_jinan_shape() -> None:
    raw = SMALL_PLAN.read_text(encoding="utf-8").replace("（四）", "（一）").replace("（五）", "（二）")
    raw = raw.replace("（六）", "（一）").replace("（七）", "（二）").replace("（八）", "（三）")
    outline = read_outline(raw, source_name="restarting.txt")
    assert outline.sequencing(NumberingStyle.CHINESE_PAREN) is Sequencing.RESTART
    assert shape_of(outline) is Shape.GENERAL


def test_parts_without_statistics_are_not_the_jinan_shape() -> None:
    _, outline = read(ACROSS)  # tasks across parts, but no key-project statistics
    assert outline.sequencing(NumberingStyle.CHINESE_PAREN) is Sequencing.ACROSS
    assert shape_of(outline) is Shape.GENERAL


# -- what is not a heading ------------------------------------------------------------------------

NOT_HEADINGS = """示例市推进城市数字化转型行动方案（2023—2025年）

　　为推进数字化转型，制定本方案。
　　一、建设数据中心
　　（一）建设算力设施。建设国家健康医疗大数据中心（北方）和
示例新区（以下简称新区）数据平台，发行基础设施不动产投资信托基
金（REITs）。新区建设分为三期：（1）完成一期；（2）完成二期。
2025.6月底前完成验收。
　　（二）完善网络设施。主要指标见附件（3）。到
2025.底全面建成。
　　二、保障措施
　　（一）加强组织领导。由市数据局负责。
"""


def test_parenthesised_words_years_and_inline_enumerations_are_text() -> None:
    outline = read_outline(NOT_HEADINGS, source_name="not-headings.txt")
    assert outline.title == "示例市推进城市数字化转型行动方案(2023—2025年)"
    assert [(d.path, d.marker, d.title) for d in outline.walk()] == [
        ((1,), "一、", "建设数据中心"),
        ((1, 1), "(一)", "建设算力设施"),
        ((1, 2), "(二)", "完善网络设施"),
        ((2,), "二、", "保障措施"),
        ((2, 1), "(一)", "加强组织领导"),
    ]
    first = outline.find((1, 1))
    assert "(北方)" in first.text and "(以下简称新区)" in first.text and "(REITs)" in first.text
    assert first.text.endswith("(1)完成一期;(2)完成二期。2025.6月底前完成验收。")
    assert outline.find((1, 2)).text.endswith("附件(3)。到2025.底全面建成。")


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("numbering-gap.txt", "numbering-gap.txt:16:3: heading （四） skips a number: expected (三)"),
        (
            "numbering-duplicate.txt",
            "numbering-duplicate.txt:11:3: heading 2． repeats a number: expected 3.",
        ),
        ("no-headings.txt", "no-headings.txt:10:5: no heading (一、, (一), 1. or (1)) in the document"),
    ],
)
def test_malformed_plans_fail_at_the_place(name: str, message: str) -> None:
    raw = (MALFORMED / name).read_text(encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        read_outline(raw, source_name=name)
    assert str(caught.value) == message
    assert caught.value.location.source == name


def test_the_gap_is_reported_where_the_marker_stands() -> None:
    raw = (MALFORMED / "numbering-gap.txt").read_text(encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        read_outline(raw, source_name="gap.txt")
    offset = caught.value.location.offset
    assert raw[offset : offset + 3] == "（四）"


def test_numbering_that_restarts_and_then_runs_on_is_an_error() -> None:
    raw = (
        "示例方案\n　　一、甲\n　　（一）子甲。正文。\n　　（二）子乙。正文。\n"
        "　　二、乙\n　　（一）子丙。正文。\n　　三、丙\n　　（二）子丁。正文。\n"
    )
    with pytest.raises(DocumentError) as caught:
        read_outline(raw, source_name="mixed.txt")
    assert str(caught.value) == (
        "mixed.txt:8:3: （二） runs on across the document, "
        "but this numbering restarted under its parents before"
    )


def test_a_heading_without_a_title_is_an_error() -> None:
    with pytest.raises(DocumentError) as caught:
        read_outline("示例方案\n　　一、甲\n　　（一）。正文。\n", source_name="bare.txt")
    assert str(caught.value) == "bare.txt:3:6: heading （一） has no title"


def test_one_normalisation_serves_outline_and_citations() -> None:
    raw = PROVINCE.read_text(encoding="utf-8")
    norm = normalise(raw)
    assert read_outline(raw, source_name=PROVINCE.name, norm=norm) == read_outline(
        raw, source_name=PROVINCE.name
    )
    with pytest.raises(ValueError, match="norm is not the normalisation of raw"):
        read_outline(raw + "。", source_name=PROVINCE.name, norm=norm)


def test_an_empty_document_is_an_error() -> None:
    with pytest.raises(DocumentError) as caught:
        read_outline(" \n\n", source_name="empty.txt")
    assert str(caught.value) == "empty.txt:1:1: empty document"


# -- roles ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rules() -> RoleRules:
    return load_role_rules()


@pytest.mark.parametrize(
    ("title", "role"),
    [
        ("总体要求", Role.FRAME),
        ("指导思想", Role.FRAME),
        ("基本原则", Role.FRAME),
        ("主要目标", Role.FRAME),
        ("发展目标", Role.FRAME),
        ("工作目标", Role.FRAME),
        ("保障措施", Role.FRAME),
        ("组织实施", Role.FRAME),
        ("加强组织领导", Role.FRAME),
        ("强化组织保障", Role.FRAME),
        ("工作要求", Role.FRAME),
        ("严格督导考核", Role.FRAME),
        ("指导思想。", Role.FRAME),
        ("重点任务", Role.ACTION),
        ("推动产业结构优化升级", Role.ACTION),
        ("实现碳达峰目标", Role.ACTION),
        ("加强要素保障", Role.ACTION),
        ("组织领导能力建设行动", Role.ACTION),
        ("聚力推动科技自立自强,在高水平创新型城市建设上先行一步", Role.ACTION),
    ],
)
def test_role_of_a_title(title: str, role: Role, rules: RoleRules) -> None:
    assert role_of(title, rules) is role


def test_children_of_a_frame_division_are_frame(rules: RoleRules) -> None:
    assert role_of("推动产业结构优化升级", rules, parent=Role.FRAME) is Role.FRAME
    assert role_of("推动产业结构优化升级", rules, parent=Role.ACTION) is Role.ACTION
    _, outline = read(CITY)
    # 四、组织实施 is frame: so is its child 加强要素保障, whose title alone is an action's.
    assert outline.find((4, 2)).title == "加强要素保障" and outline.find((4, 2)).role is Role.FRAME


def test_role_rules_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "roles.toml"
    for text, message in [
        ('[frame]\nexact = ["总体要求", 3]\n', "frame: exact must be a list of non-empty strings"),
        ('[other]\nexact = ["总体要求"]\n', "file: unknown section(s) other"),
        ("", "file: no [frame] table"),
        ('[frame]\nexacts = ["总体要求"]\n', "frame: unknown field(s) exacts"),
        (
            "[frame\n",
            "file: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 7)",
        ),
    ]:
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(CatalogueError) as caught:
            load_role_rules(bad)
        assert str(caught.value) == f"roles.toml: {message}"
