"""mapping.parser: golden tests on the seed, variants of it, a small plan of the genre, malformed input."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mapping.errors import DocumentError
from mapping.model import Plan, Span, Stage
from mapping.numbers import parse_chinese
from mapping.parser import parse_plan
from mapping.text import normalise

TESTS = Path(__file__).resolve().parent
SEED = TESTS.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
SMALL_PLAN = TESTS / "fixtures" / "small_plan.txt"

SEED_RAW = SEED.read_text(encoding="utf-8")

# Read by hand from the seed: number, numeral, title, declared key tasks, task numbers it holds.
SEED_PILLARS = [
    (1, "一", "聚力推动科技自立自强,在高水平创新型城市建设上先行一步", 6, range(1, 7)),
    (2, "二", "聚力深化新旧动能转换,在构建更具韧性的现代产业体系上先行一步", 5, range(7, 12)),
    (3, "三", "聚力扩大内需战略基点,在主动服务和融入新发展格局上先行一步", 5, range(12, 17)),
    (4, "四", "聚力协同推进降碳减污扩绿增长,在促进人与自然和谐共生上先行一步", 5, range(17, 22)),
    (5, "五", "聚力发挥中心城市作用,在服务和落实区域战略上先行一步", 6, range(22, 28)),
    (6, "六", "聚力推动农业农村现代化,在深入打造乡村振兴齐鲁样板上先行一步", 4, range(28, 32)),
    (7, "七", "聚力用好“关键一招”,在加快建设改革开放新高地上先行一步", 4, range(32, 36)),
    (8, "八", "聚力推动文化自信自强,在打造文明交流互鉴新高地上先行一步", 5, range(36, 41)),
    (9, "九", "聚力增进民生福祉,在切实提高人民生活品质上先行一步", 5, range(41, 46)),
    (10, "十", "聚力统筹发展和安全,在坚决守牢“一排底线”上先行一步", 5, range(46, 50)),
]

# Read by hand from the seed: per pillar, (count, investment in 亿元 as written) for
# total, continuing, new in 2023, reserve for 2024 and 2025.
SEED_FIGURES = {
    1: [(90, "1920.83"), (37, "854.58"), (37, "683.91"), (16, "382.34")],
    2: [(308, "3110.49"), (88, "1611.69"), (154, "754.63"), (66, "744.17")],
    3: [(267, "5420.69"), (103, "2838.88"), (100, "1292.2"), (64, "1289.61")],
    4: [(96, "850.39"), (21, "176.94"), (45, "302.41"), (30, "371.04")],
    5: [(102, "6551.23"), (33, "3102.9"), (23, "1429.6"), (46, "2018.73")],
    6: [(94, "524.95"), (24, "130.79"), (53, "327.76"), (17, "66.4")],
    7: [(48, "990.2"), (15, "552.03"), (24, "348.15"), (9, "90.02")],
    8: [(48, "1509.71"), (13, "499.03"), (15, "259.26"), (20, "751.42")],
    9: [(210, "3097.59"), (105, "1666.84"), (79, "1169.27"), (26, "261.48")],
    10: [(38, "125.74"), (11, "37.34"), (15, "66.56"), (12, "21.84")],
}
STAGES = [Stage.TOTAL, Stage.CONTINUING, Stage.NEW, Stage.RESERVE]
SEED_YEARS = {Stage.TOTAL: (), Stage.CONTINUING: (), Stage.NEW: (2023,), Stage.RESERVE: (2024, 2025)}

SEED_TASK_TITLES = {
    1: "构建高能级创新平台",
    6: "建设区域人才高地",
    7: "大力培育产业共同体",
    9: "建设现代服务经济中心",  # just after the page marker —4—
    20: "推动形成绿色低碳生产生活方式",
    24: "全力推动济南新旧动能转换起步区建设",
    28: "打造北方种业之都",
    34: "开展数字化绿色化协同转型发展(双化协同)综合试点",
    44: "提升卫生健康服务水平",
    49: "完善现代应急管理体系",
}


@pytest.fixture(scope="module")
def seed() -> Plan:
    return parse_plan(SEED_RAW, source_name=SEED.name)


def spans_of(node: Any, path: str = "plan") -> Iterator[tuple[str, Span]]:
    """Every Span anywhere in a model object, with a path that names it."""
    if isinstance(node, Span):
        yield path, node
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            yield from spans_of(getattr(node, field.name), f"{path}.{field.name}")
    elif isinstance(node, tuple):
        for k, item in enumerate(node):
            yield from spans_of(item, f"{path}[{k}]")


def norm(quote: str) -> str:
    return normalise(quote).text


def assert_spans_read_back(plan: Plan, raw: str) -> int:
    """Each span quotes ``raw`` at its offsets, and its quote normalises to the value read from it."""
    spans = list(spans_of(plan))
    for path, span in spans:
        assert raw[span.start : span.end] == span.quote, path
    assert norm(plan.title_span.quote) == plan.title
    assert norm(plan.preamble_span.quote) == plan.preamble
    if plan.period is not None:
        assert plan.period_span is not None
        assert norm(plan.period_span.quote) == f"({plan.period[0]}—{plan.period[1]}年)"
    for pillar in plan.pillars:
        assert norm(pillar.title_span.quote) == pillar.title
        assert norm(pillar.span.quote).startswith(f"{pillar.numeral}、{pillar.title}")
        if pillar.declared_task_count is not None:
            assert pillar.declared_task_count_span is not None
            assert norm(pillar.declared_task_count_span.quote) == str(pillar.declared_task_count)
        for stat in pillar.statistics:
            assert norm(stat.count_span.quote) == str(stat.count)
            assert norm(stat.investment_span.quote) == f"{stat.investment_text}亿元"
            assert str(stat.count) in norm(stat.span.quote)
    for task in plan.tasks:
        assert norm(task.title_span.quote) == task.title
        assert norm(task.span.quote) == f"({task.numeral}){task.text}"
    return len(spans)


# -- golden tests on the seed ---------------------------------------------------------------


def test_plan_title_period_preamble(seed: Plan) -> None:
    assert seed.title == "济南市深化新旧动能转换推动绿色低碳高质量发展三年行动计划(2023—2025年)"
    assert seed.period == (2023, 2025)
    assert seed.period_span is not None and seed.period_span.quote == "(2023—2025年)"
    assert seed.preamble.startswith("为深入贯彻党的二十大精神,全面落实《国务院关于支持山东")
    assert seed.preamble.endswith("结合我市实际,制定具体行动计划如下。")
    assert seed.source_name == SEED.name
    assert seed.source_length == len(SEED_RAW)
    assert seed.source_sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()


def test_ten_pillars_numbers_titles_declared_counts(seed: Plan) -> None:
    got = [(p.number, p.numeral, p.title, p.declared_task_count) for p in seed.pillars]
    assert got == [(n, numeral, title, declared) for n, numeral, title, declared, _ in SEED_PILLARS]


def test_all_80_statistics_figures(seed: Plan) -> None:
    checked = 0
    for pillar in seed.pillars:
        expected = SEED_FIGURES[pillar.number]
        assert [s.stage for s in pillar.statistics] == STAGES
        for stat, (count, investment) in zip(pillar.statistics, expected, strict=True):
            assert stat.count == count, (pillar.number, stat.stage)
            assert stat.investment == Decimal(investment), (pillar.number, stat.stage)
            assert stat.investment_text == investment
            assert stat.years == SEED_YEARS[stat.stage]
            checked += 2
    assert checked == 80


def test_hand_read_figures_add_up() -> None:
    """Guards the table above against typos: the three stages sum to the total in the text."""
    for figures in SEED_FIGURES.values():
        (total, total_inv), *stages = figures
        assert sum(c for c, _ in stages) == total
        assert sum(Decimal(i) for _, i in stages) == Decimal(total_inv)


def test_figure_spans_cover_digits_and_unit(seed: Plan) -> None:
    total = seed.pillars[0].statistics[0]
    assert total.span.quote == "总投资1920.83亿元\n\n的90个重点项目"  # without the verb 扎实推进
    assert total.count_span.quote == "90"
    second = seed.pillars[0].statistics[1]
    assert second.count_span.quote == "37"
    assert second.investment_span.quote == "854.58亿\n\n元"  # broken across lines in the source
    assert second.span.quote.startswith("续建项目37个")
    pillar3_new = seed.pillars[2].statistics[2]
    assert pillar3_new.investment_span.quote == "1292.2亿\n\n元"
    assert pillar3_new.span.quote.startswith("计划2023年新开工项目100个")
    first = seed.pillars[0]
    assert first.statistics_span is not None
    assert first.statistics_span.quote.startswith("认真抓好6项重点工作")
    assert first.statistics_span.quote.endswith("382.34亿元。")
    assert first.declared_task_count_span is not None and first.declared_task_count_span.quote == "6"


def test_49_tasks_with_pillar_and_order(seed: Plan) -> None:
    assert [t.number for t in seed.tasks] == list(range(1, 50))
    expected = {
        n: (pillar, order) for pillar, *_, numbers in SEED_PILLARS for order, n in enumerate(numbers, 1)
    }
    assert {t.number: (t.pillar, t.order) for t in seed.tasks} == expected


def test_pillar_ten_declares_five_and_holds_four(seed: Plan) -> None:
    ten = seed.pillars[-1]
    assert ten.declared_task_count == 5
    assert [t.number for t in seed.tasks if t.pillar == ten.number] == [46, 47, 48, 49]


def test_task_titles_sample(seed: Plan) -> None:
    titles = {t.number: t.title for t in seed.tasks}
    for number, title in SEED_TASK_TITLES.items():
        assert titles[number] == title


def test_task_numerals_as_printed(seed: Plan) -> None:
    numerals = {t.number: t.numeral for t in seed.tasks}
    assert numerals[1] == "一" and numerals[10] == "十" and numerals[11] == "十一"
    assert numerals[20] == "二十" and numerals[34] == "三十四" and numerals[49] == "四十九"


def test_parenthesised_text_is_never_a_task(seed: Plan) -> None:
    texts = {t.number: t.text for t in seed.tasks}
    assert "国家健康医疗大数据中心(北方)等重大平台作用" in texts[1]
    assert "国家中医(肿瘤)区域医疗中心" in texts[1]
    assert "(以下简称起步区)" in texts[24]
    assert "不动产投资信托基金(REITs)试点" in texts[13]
    assert "(双化协同)" in next(t.title for t in seed.tasks if t.number == 34)
    assert "扁鹊精品专科(学科)创建计划" in texts[44]


def test_task_text_runs_to_the_next_marker(seed: Plan) -> None:
    texts = {t.number: t.text for t in seed.tasks}
    assert texts[8].endswith("建设超算中心、行业数据中心和产业大脑。")  # the page marker is gone
    assert texts[6].endswith("到2025年人才总量突破300万。")  # ends before the pillar heading 二、
    assert texts[49] == "完善现代应急管理体系。完善自然灾害监测"  # truncated in the source
    task1 = seed.tasks[0]
    assert task1.span.quote.startswith("(一)构建高能级创新平台。")
    assert task1.title_span.quote == "构建高能级创新平台"


def test_every_span_quotes_the_seed(seed: Plan) -> None:
    count = assert_spans_read_back(seed, SEED_RAW)
    # plan 3 (title, period, preamble); pillar 5 (title, count, statistics, whole) + 4 stages x 3;
    # task 2 (title, whole)
    assert count == 3 + 10 * (4 + 4 * 3) + 49 * 2


# -- variants of the seed -------------------------------------------------------------------


def shape(plan: Plan) -> tuple[Any, ...]:
    """What must not change when only the layout of the text changes."""
    return (
        plan.title,
        plan.period,
        plan.preamble,
        [
            (
                p.number,
                p.numeral,
                p.title,
                p.declared_task_count,
                [(s.stage, s.count, s.investment, s.investment_text, s.years) for s in p.statistics],
            )
            for p in plan.pillars
        ],
        [(t.number, t.numeral, t.title, t.text, t.pillar, t.order) for t in plan.tasks],
    )


def no_line_breaks(raw: str) -> str:
    return raw.replace("\n", "")


def rebroken(width: int) -> Callable[[str], str]:
    def variant(raw: str) -> str:
        flat = raw.replace("\n", "")
        return "\n".join(flat[k : k + width] for k in range(0, len(flat), width))

    return variant


_FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "(),:;%+.0123456789"})


def full_width(raw: str) -> str:
    return raw.translate(_FULL_WIDTH)


def page_markers(form: str) -> Callable[[str], str]:
    """Replace the seed's page marker by ``form`` and add more of that form between lines."""

    def variant(raw: str) -> str:
        lines = raw.replace("—4—", form.format(4)).split("\n")
        out: list[str] = []
        for k, line in enumerate(lines, 1):
            out.append(line)
            if k % 37 == 0:
                out.append(form.format(k // 37 + 4))
        return "\n".join(out)

    return variant


def extra_spaces(raw: str) -> str:
    out: list[str] = []
    for k, ch in enumerate(raw):
        if ch == "\n":
            out.append(" \n\u3000 " if k % 3 else "\n  ")
            continue
        out.append(ch)
        if "\u4e00" <= ch <= "\u9fff" and k % 4 == 0:
            out.append(" " if k % 8 else "\u3000 ")
    return "".join(out)


def crlf(raw: str) -> str:
    return raw.replace("\n", "\r\n")


def combined(raw: str) -> str:
    return extra_spaces(rebroken(31)(full_width(raw)))


VARIANTS: dict[str, Callable[[str], str]] = {
    "no-line-breaks": no_line_breaks,
    "rebroken-13": rebroken(13),
    "rebroken-40": rebroken(40),
    "full-width": full_width,
    "marker-ascii-dashes": page_markers("- {} -"),
    "marker-full-width-dashes": page_markers("－{}－"),
    "marker-page-of": page_markers("第 {} 页 共 30 页"),
    "marker-slash": page_markers("{}/30"),
    "marker-indented-em-dash": page_markers("\u3000\u3000— {} —  "),
    "extra-spaces": extra_spaces,
    "crlf": crlf,
    "combined": combined,
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_gives_the_same_model_with_spans_into_its_own_text(name: str, seed: Plan) -> None:
    raw = VARIANTS[name](SEED_RAW)
    assert raw != SEED_RAW
    plan = parse_plan(raw, source_name="variant.txt")
    assert shape(plan) == shape(seed)
    assert plan.source_length == len(raw)
    assert_spans_read_back(plan, raw)


def scrambled(seed: int) -> str:
    """The seed with random line breaks, blank lines, indents, spaces, full-width forms and page markers."""
    rng = random.Random(seed)
    out: list[str] = []
    for ch in SEED_RAW.replace("\n", "").replace("—4—", ""):
        out.append(ch.translate(_FULL_WIDTH) if rng.random() < 0.3 else ch)
        r = rng.random()
        if r < 0.05:
            out.append("\n")
        elif r < 0.07:
            out.append("\n\n\u3000 ")
        elif r < 0.09 and "\u4e00" <= ch <= "\u9fff":
            out.append(rng.choice([" ", "\u3000", "  "]))
        elif r < 0.092:
            out.append(
                rng.choice(["\n—{}—\n", "\n第{}页\n", "\n- {} -\n", "\n{}/30\n"]).format(rng.randint(1, 30))
            )
    return "".join(out)


@pytest.mark.parametrize("seed_number", range(20))
def test_scrambled_layout_gives_the_same_model(seed_number: int, seed: Plan) -> None:
    raw = scrambled(seed_number)
    plan = parse_plan(raw, source_name="scrambled.txt")
    assert shape(plan) == shape(seed)
    assert_spans_read_back(plan, raw)


# -- a small plan of the same genre ---------------------------------------------------------


def test_small_plan_of_the_genre() -> None:
    raw = SMALL_PLAN.read_text(encoding="utf-8")
    plan = parse_plan(raw, source_name=SMALL_PLAN.name)
    assert plan.title == "潍坊市推进制造业绿色转型三年行动方案(2026—2028年)"
    assert plan.period == (2026, 2028)
    assert plan.preamble == "为加快制造业绿色低碳转型,推动潍坊高质量发展,结合我市实际,制定本方案。"
    assert [(p.number, p.title, p.declared_task_count) for p in plan.pillars] == [
        (1, "聚力培育绿色制造体系,在产业转型上走在前列", 3),
        (2, "强化要素保障", None),
        (3, "聚力推动能源结构调整,在低碳发展上取得突破", 3),
    ]
    one, two, three = plan.pillars
    assert [(s.stage, s.count, s.investment, s.years) for s in one.statistics] == [
        (Stage.TOTAL, 25, Decimal("210.5"), ()),
        (Stage.CONTINUING, 10, Decimal("120.3"), ()),
        (Stage.NEW, 9, Decimal("60.15"), (2026,)),
        (Stage.RESERVE, 6, Decimal("30.05"), (2027, 2028)),
    ]
    assert two.statistics == () and two.statistics_span is None and two.declared_task_count_span is None
    assert [(s.stage, s.count, s.investment, s.years) for s in three.statistics] == [
        (Stage.TOTAL, 12, Decimal("88"), ()),
        (Stage.CONTINUING, 5, Decimal("40"), ()),
        (Stage.NEW, 4, Decimal("30.5"), (2026,)),
        (Stage.RESERVE, 3, Decimal("17.5"), (2027, 2028)),  # written as a range 2027—2028年
    ]
    assert [(t.number, t.pillar, t.order, t.title) for t in plan.tasks] == [
        (1, 1, 1, "建设绿色工厂"),
        (2, 1, 2, "推进潍坊滨海经济技术开发区(以下简称滨海区)绿色化改造"),
        (3, 1, 3, "发展循环经济"),
        (4, 2, 1, "加大金融支持"),
        (5, 2, 2, "完善用地保障"),
        (6, 3, 1, "发展可再生能源"),
        (7, 3, 2, "推广清洁供暖"),
        (8, 3, 3, "开展低碳试点"),
    ]
    texts = {t.number: t.text for t in plan.tasks}
    assert texts[1] == "建设绿色工厂。到2028年,省级以上绿色工厂达到50家(含国家级)。"
    assert texts[2].endswith("支持滨海区创建国家级绿色工业园区。")  # page marker — 2 — removed
    assert "第(二)部分要求" in texts[6]  # a numeral in parentheses mid-sentence is no task
    assert texts[7].endswith("管网改造(一期)。")
    assert texts[8] == "开展低碳试点。建设一批近零碳园区"
    assert_spans_read_back(plan, raw)


def test_task_number_gap_is_recorded_not_an_error() -> None:
    raw = "某市行动计划(2030—2032年)\n制定本计划。\n一、加快发展\n(一)任务甲。\n(三)任务丙。\n(三)又一次。"
    plan = parse_plan(raw, source_name="gap.txt")
    assert [(t.number, t.order) for t in plan.tasks] == [(1, 1), (3, 2), (3, 3)]


def test_sentence_starting_with_a_numeral_is_not_a_heading() -> None:
    raw = (
        "某市行动计划(2030—2032年)\n制定本计划。\n一、加快发展\n(一)任务甲。三、四季度完成验收。\n"
        "二、强化保障\n(二)任务乙:(一)子项;(二)子项。"
    )
    plan = parse_plan(raw, source_name="x.txt")
    assert [p.title for p in plan.pillars] == ["加快发展", "强化保障"]
    assert [t.text for t in plan.tasks] == ["任务甲。三、四季度完成验收。", "任务乙:(一)子项;(二)子项。"]


def test_numbering_jump_inside_a_pillar_is_text_but_a_real_gap_is_a_pillar() -> None:
    raw = (
        "某市行动计划(2030—2032年)\n制定本计划。\n一、加快发展\n(一)任务甲。三、四季度安排如下:(一)调研;(二)验收。\n"
        "二、强化保障\n(二)任务乙。\n四、做好宣传\n(三)任务丙。"
    )
    plan = parse_plan(raw, source_name="x.txt")
    assert [(p.number, p.title) for p in plan.pillars] == [(1, "加快发展"), (2, "强化保障"), (4, "做好宣传")]
    assert [(t.number, t.pillar) for t in plan.tasks] == [(1, 1), (2, 2), (3, 4)]
    assert plan.tasks[0].text == "任务甲。三、四季度安排如下:(一)调研;(二)验收。"


def test_statistics_without_a_declared_task_count() -> None:
    raw = (
        "某市行动计划(2030—2032年)\n制定本计划。\n一、加快发展\n"
        "扎实推进88个重点项目,总投资100.5亿元,其中续建项目10个,总投资60亿元,\n"
        "计划2031年至2032年开工的谋划储备项目78个,总投资40.5亿元。\n(一)任务甲。"
    )
    pillar = parse_plan(raw, source_name="x.txt").pillars[0]
    assert pillar.title == "加快发展"
    assert pillar.declared_task_count is None and pillar.declared_task_count_span is None
    assert [(s.stage, s.count, s.investment, s.years) for s in pillar.statistics] == [
        (Stage.TOTAL, 88, Decimal("100.5"), ()),
        (Stage.CONTINUING, 10, Decimal("60"), ()),
        (Stage.RESERVE, 78, Decimal("40.5"), (2031, 2032)),
    ]
    assert pillar.statistics_span is not None
    assert pillar.statistics_span.quote.startswith("扎实推进88个重点项目")
    assert pillar.statistics[0].span.quote == "88个重点项目,总投资100.5亿元"
    assert pillar.statistics[2].span.quote == "计划2031年至2032年开工的谋划储备项目78个,总投资40.5亿元"


def test_title_from_the_first_line_when_nothing_else_marks_it() -> None:
    raw = "某市城市更新工作安排\r\n为推进城市更新,制定本安排。\r\n一、改造老旧小区\r\n(一)加快改造。"
    plan = parse_plan(raw, source_name="x.txt")
    assert plan.title == "某市城市更新工作安排"
    assert plan.title_span.quote == "某市城市更新工作安排"


def test_title_without_period() -> None:
    raw = "某市城市更新实施方案\n为推进城市更新,制定本方案。\n一、改造老旧小区\n(一)加快改造。"
    plan = parse_plan(raw, source_name="x.txt")
    assert plan.title == "某市城市更新实施方案"
    assert plan.period is None and plan.period_span is None
    assert plan.preamble == "为推进城市更新,制定本方案。"


def test_chinese_numbers_in_declared_count_and_markers() -> None:
    raw = "某市行动计划(2030—2032年)\n一、加快发展\n认真抓好两项重点工作。\n(一百零一)甲。\n(一百零二)乙。"
    plan = parse_plan(raw, source_name="x.txt")
    assert plan.preamble == ""
    assert plan.pillars[0].declared_task_count == 2
    assert plan.pillars[0].statistics == ()
    assert [t.number for t in plan.tasks] == [101, 102]


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一", 1), ("九", 9), ("十", 10), ("十一", 11), ("二十", 20), ("四十九", 49), ("九十九", 99),
        ("一百", 100), ("一百零一", 101), ("一百一十", 110), ("两百", 200), ("一千零五十", 1050),
        ("十万", 100000), ("一万二千", 12000), ("一〇", 10), ("二〇二三", 2023),
    ],
)  # fmt: skip
def test_chinese_numeral_value(numeral: str, value: int) -> None:
    # The parser reads headings and markers with mapping.numbers' one reader of numerals.
    assert parse_chinese(numeral) == value


@pytest.mark.parametrize(
    ("numeral", "message"),
    [
        ("", "not a Chinese numeral: ''"),
        ("北方", "not a Chinese numeral: '北方'"),
        ("一二十", r"malformed Chinese numeral '一二十': two digits in a row \(一二\) \(character 2\)"),
        ("三二十", r"malformed Chinese numeral '三二十': two digits in a row \(三二\) \(character 2\)"),
        ("三一十", r"malformed Chinese numeral '三一十': two digits in a row \(三一\) \(character 2\)"),
        ("十十", r"malformed Chinese numeral '十十': places out of order \(十 after 十\) \(character 2\)"),
        ("10", "not a Chinese numeral: '10'"),
        (
            "一百二千",
            r"malformed Chinese numeral '一百二千': places out of order \(二千 after 一百\) \(character 3\)",
        ),
        (
            "一万二万",
            r"malformed Chinese numeral '一万二万': places out of order \(二万 after 一万\) \(character 3\)",
        ),
    ],
)
def test_chinese_numeral_value_refuses(numeral: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_chinese(numeral)


# -- malformed documents --------------------------------------------------------------------

HEAD = "某市行动计划(2030—2032年)\n为推进工作,制定本计划。\n"  # lines 1 and 2
PILLAR = "一、聚力发展,在创新上先行一步\n"  # line 3


@pytest.mark.parametrize(
    ("raw", "line", "column", "message"),
    [
        ("", 1, 1, "empty document"),
        ("\n \u3000\n\n", 1, 1, "empty document"),
        (HEAD, 2, 13, "no pillar heading"),
        (
            HEAD.replace("制定本计划。", "制定本计划。(一)提前。") + PILLAR + "(二)任务。",
            2,
            13,
            "before any pillar",
        ),
        (
            HEAD
            + PILLAR
            + "认真抓好2项重点工作,扎实推进总投资100亿元的10个重点项目,其中\n"
            + "续建项目五个,总投资50亿元。\n(一)任务。",
            5,
            1,
            "unreadable project statistics",
        ),
        (
            HEAD + PILLAR + "认真抓好2项重点工作,扎实推进总投资约一百亿元的10个重点项目。\n(一)任务。",
            4,
            12,
            "unreadable project statistics",
        ),
        (HEAD + PILLAR + "认真抓好若干项重点工作。\n(一)任务。", 4, 5, "unreadable number of key tasks"),
        (
            HEAD
            + PILLAR
            + "认真抓好2项重点工作,其中续建项目5个,总投资5亿元,续建项目6个,总投资6亿元。(一)任务。",
            4,
            28,
            "second continuing figure",
        ),
        (HEAD + "一、认真抓好2项重点工作。\n(一)任务。", 3, 3, "has no title"),
        (HEAD + PILLAR + "(一)任务。\n(二)", 5, 4, "task (二) has no text"),
        (HEAD + PILLAR + "(一)。任务。", 4, 4, "has no title"),
    ],
)
def test_malformed_document_raises_with_location(raw: str, line: int, column: int, message: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_plan(raw, source_name="bad.txt")
    error = caught.value
    assert message in error.message
    assert (error.location.line, error.location.column) == (line, column)
    assert error.location.source == "bad.txt"
    assert str(error).startswith(f"bad.txt:{line}:{column}: ")
